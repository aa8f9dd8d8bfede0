import type { ModelRef } from '../core/contracts/deployment.js';
import { formatDuration } from './duration.js';
import type { FleetSession } from './fleet-session.js';
import { judgeRollback, type DeviceRollback, type RollbackProbe } from './rollback-report.js';
import type { RollbackSent } from './runner.js';
import type { RolloutRecord } from './rollout-record.js';

export interface ConfirmOptions {
  /** The rolled-back deployment and its model (what a device must no longer serve). */
  readonly deployment: { readonly id: string; readonly model: ModelRef | null };
  /** How long to wait for the online devices' answers. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * Send a rollback (`send`: runner.ts operatorRollback) and wait for every device that was
 * online to answer it, then judge each answer (rollback-report.ts). Responses are watched
 * before anything is sent, and each device's online status and latest report are taken
 * before the request changes them. Offline devices are not waited for: they are `pending`.
 */
export async function confirmRollback(
  session: FleetSession,
  send: () => Promise<{ record: RolloutRecord; sent: readonly RollbackSent[] }>,
  o: ConfirmOptions,
): Promise<{ record: RolloutRecord; devices: DeviceRollback[] }> {
  await session.watchResponses('rollback');
  const view = session.view;
  const snapshot = new Map<string, Omit<RollbackProbe, 'response'>>();
  const probe = (id: string): Omit<RollbackProbe, 'response'> => {
    const r = view.reports.get(id)?.value;
    return { id, online: view.status.get(id)?.value.state === 'online', ...(r ? { before: r } : {}) };
  };
  for (const id of view.ids()) snapshot.set(id, probe(id));
  const { record, sent } = await send();
  const waiting = (): RollbackSent[] => sent.filter((s) => (snapshot.get(s.id) ?? probe(s.id)).online && !session.responses.has(s.transaction));
  await session.waitUntil(() => waiting().length === 0, o.timeoutMs, o.signal);
  const timeoutText = formatDuration(o.timeoutMs);
  const devices = sent.map((s) =>
    judgeRollback({ ...(snapshot.get(s.id) ?? probe(s.id)), response: session.responses.get(s.transaction)?.response ?? null }, o.deployment, timeoutText),
  );
  return { record, devices };
}

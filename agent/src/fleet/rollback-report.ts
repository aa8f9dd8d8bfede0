import type { DeploymentReport as WireReport, ModelRef } from '../core/contracts/deployment.js';
import type { ResponsePayload } from '../core/contracts/topics.js';
import { isTerminal } from '../core/contracts/deployment.js';

/**
 * What a rollback did on each device (`rollout rollback`, `rollout abort`), judged from the
 * device's own answer to the signed `rollback` request: the model it serves afterwards. A
 * device that answers "ok" but still serves the rolled-back model has NOT rolled back, and
 * says so here, whatever the request's status. Pure; the exchange is in rollback-watch.ts.
 */
export type RollbackResult =
  /** The deployment had switched the device to its model; the device went back. */
  | 'rolled_back'
  /** The deployment was still running on the device; it was canceled. */
  | 'canceled'
  /** The deployment never served there (failed, rejected, never worked): nothing to undo. */
  | 'unchanged'
  /** Offline when the rollback was sent: the previous desired is retained for it and the request waits in its session. */
  | 'pending'
  | 'still_serving'
  | 'no_model'
  | 'error'
  | 'no_answer';

export interface DeviceRollback {
  readonly id: string;
  readonly result: RollbackResult;
  /** false: the rollback is not done there (the command exits FLEET_ROLLBACK_INCOMPLETE). */
  readonly ok: boolean;
  /** The model the device said it serves after the rollback (null: none, or no answer). */
  readonly serving: ModelRef | null;
  readonly message: string;
  /** The device's error code (result `error`). */
  readonly code?: string;
}

export interface RollbackProbe {
  readonly id: string;
  /** Retained status when the request was sent. */
  readonly online: boolean;
  /** The device's latest deployment report when the request was sent (any deployment). */
  readonly before?: Pick<WireReport, 'deploymentId' | 'state' | 'error' | 'model'>;
  /** The response with our transaction, or null when none came within the timeout. */
  readonly response: ResponsePayload | null;
}

const text = (m: ModelRef | null): string => (m ? `${m.name} ${m.version}` : 'no model');
const same = (a: ModelRef | null, b: ModelRef | null): boolean => a !== null && b !== null && a.name === b.name && a.version === b.version;

function isRef(x: unknown): x is ModelRef {
  const r = x as Partial<ModelRef> | null;
  return typeof r === 'object' && r !== null && typeof r.name === 'string' && typeof r.version === 'string';
}

/**
 * The rollback op's answer: `{serving, outcome, reason}` (agents that say what they did), or
 * the bare serving model (older agents); either way the serving model is what is judged.
 */
export function readRollbackAnswer(data: unknown): { serving: ModelRef | null; outcome?: string; reason?: string } {
  if (isRef(data)) return { serving: { name: data.name, version: data.version } };
  const d = data as { serving?: unknown; outcome?: unknown; reason?: unknown } | null;
  if (typeof d === 'object' && d !== null && 'serving' in d) {
    return {
      serving: isRef(d.serving) ? { name: d.serving.name, version: d.serving.version } : null,
      ...(typeof d.outcome === 'string' ? { outcome: d.outcome } : {}),
      ...(typeof d.reason === 'string' ? { reason: d.reason } : {}),
    };
  }
  return { serving: null };
}

export function judgeRollback(p: RollbackProbe, deployment: { readonly id: string; readonly model: ModelRef | null }, timeoutText: string): DeviceRollback {
  const { id } = p;
  if (!p.response) {
    return p.online
      ? { id, result: 'no_answer', ok: false, serving: null, message: `online but did not answer the rollback request within ${timeoutText}` }
      : { id, result: 'pending', ok: true, serving: null, message: 'offline: its previous desired is retained again, and the signed rollback request waits in its session until it expires' };
  }
  if (p.response.status !== 'ok') {
    const code = p.response.error?.code ?? 'UNKNOWN';
    return { id, result: 'error', ok: false, serving: null, code, message: `the rollback failed: ${code}: ${p.response.error?.message ?? '(no message)'}` };
  }
  const answer = readRollbackAnswer(p.response.data);
  const serving = answer.serving;
  if (same(serving, deployment.model)) {
    return { id, result: 'still_serving', ok: false, serving, message: `STILL SERVES ${text(serving)}, the model of ${deployment.id}${answer.reason ? ` (${answer.reason})` : ''}` };
  }
  if (!serving) return { id, result: 'no_model', ok: false, serving, message: `serves no model after the rollback${answer.reason ? ` (${answer.reason})` : ''}` };
  const before = p.before?.deploymentId === deployment.id ? p.before : undefined;
  const outcome = answer.outcome ?? (before?.state === 'active' ? 'rolled_back' : before && !isTerminal(before.state) ? 'canceled' : 'unchanged');
  if (outcome === 'rolled_back') return { id, result: 'rolled_back', ok: true, serving, message: `rolled back: serves ${text(serving)}${deployment.model ? ` (was ${text(deployment.model)})` : ''}` };
  if (outcome === 'canceled') return { id, result: 'canceled', ok: true, serving, message: `canceled while ${before?.state ?? 'in progress'}: serves ${text(serving)}` };
  const why = answer.reason ?? (before ? `its copy ended ${before.state}${before.error ? ` ${before.error.code}` : ''}` : 'it never worked this deployment');
  return { id, result: 'unchanged', ok: true, serving, message: `nothing to undo (${why}): serves ${text(serving)}` };
}

/** `2 rolled back, 1 pending (offline), 1 STILL SERVING` in a fixed order. */
export function rollbackCounts(rows: readonly DeviceRollback[]): string {
  const order: readonly [RollbackResult, string][] = [
    ['rolled_back', 'rolled back'],
    ['canceled', 'canceled'],
    ['unchanged', 'nothing to undo'],
    ['pending', 'pending (offline)'],
    ['still_serving', 'STILL SERVING the rolled-back model'],
    ['no_model', 'serving no model'],
    ['error', 'failed'],
    ['no_answer', 'no answer'],
  ];
  const parts = order.map(([r, label]) => [rows.filter((x) => x.result === r).length, label] as const).filter(([n]) => n > 0);
  return parts.map(([n, label]) => `${n} ${label}`).join(', ') || 'no device';
}

export function formatRollback(rows: readonly DeviceRollback[]): string[] {
  const w = Math.max(2, ...rows.map((r) => r.id.length));
  return rows.map((r) => `  ${r.id.padEnd(w)}  ${r.message}`);
}

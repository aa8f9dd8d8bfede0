import type { ModelRef } from '../core/contracts/deployment.js';
import { isTerminal, type DeploymentReport } from '../core/contracts/deployment.js';
import { formatDuration } from './duration.js';
import { readDesired, type DesiredSummary } from './desired.js';
import type { FleetView } from './fleet-view.js';

/**
 * `in-sync`: serves what its desired asks for; `updating`: working on its desired now;
 * `drift`: serves something else and is not working on it; `unknown`: no health report says
 * what it serves; `none`: no desired retained for it.
 */
export type Drift = 'in-sync' | 'updating' | 'drift' | 'unknown' | 'none';

/**
 * One device as `jetson-fleet devices` shows it. The fields `id, online, lastSeen, groups,
 * board {soc, cudaArch, tensorrt, jetpack}, freeDiskBytes` are a device record of
 * `rollout plan --devices-file` (devices-file.ts), so `devices --json` feeds a dry run.
 */
export interface DeviceRow {
  readonly id: string;
  readonly online: boolean;
  /** ISO time of the device's last status/health, when it said one. */
  readonly lastSeen: string | null;
  readonly groups: readonly string[];
  readonly board: {
    readonly model: string | null;
    readonly soc: string | null;
    readonly cudaArch: number | null;
    readonly tensorrt: string | null;
    readonly jetpack: string | null;
  };
  readonly freeDiskBytes: number | null;
  /** What the retained desired asks for (the device's own, else its groups' newest). */
  readonly desired: (DesiredSummary & { readonly source: string }) | null;
  /** What its last health snapshot says it serves. */
  readonly actual: ModelRef | null;
  readonly drift: Drift;
  readonly driftReason: string | null;
  /** `offline` for an offline device (its last snapshot is in lastHealth), else the health status. */
  readonly health: string | null;
  readonly lastHealth: string | null;
  readonly reasons: readonly string[];
  readonly plugin: string | null;
  readonly deployment: { readonly deploymentId: string; readonly state: string; readonly error: string | null } | null;
  readonly simulated: boolean;
}

export interface DeviceFilter {
  readonly group?: string;
  /** online, offline, or a deployment state (active, failed, …) of the device's last report. */
  readonly state?: string;
  /** Only devices that do not serve what their desired asks for (drift or unknown). */
  readonly drift?: boolean;
}

const same = (a: ModelRef | null, b: ModelRef | null): boolean => a !== null && b !== null && a.name === b.name && a.version === b.version;
const text = (m: ModelRef): string => `${m.name} ${m.version}`;

/** Pure: desired vs actual for one device. */
export function driftOf(desired: DesiredSummary | null, actual: ModelRef | null, report: DeploymentReport | undefined): { drift: Drift; reason: string | null } {
  if (!desired) return { drift: 'none', reason: null };
  const mine = report?.deploymentId === desired.deploymentId ? report : undefined;
  if (mine && !isTerminal(mine.state)) return { drift: 'updating', reason: `${desired.deploymentId} ${mine.state}` };
  if (!actual) return { drift: 'unknown', reason: 'no health report names the model it serves' };
  if (same(actual, desired.model)) return { drift: 'in-sync', reason: null };
  const why = !mine
    ? `${desired.deploymentId} not reported yet`
    : mine.state === 'active'
      ? `${desired.deploymentId} reported active, but it serves ${text(actual)}`
      : `${desired.deploymentId} ended ${mine.state}${mine.error ? ` ${mine.error.code}` : ''}`;
  return { drift: 'drift', reason: `wants ${text(desired.model)}: ${why}` };
}

function effectiveDesired(view: FleetView, id: string, groups: readonly string[]): (DesiredSummary & { source: string }) | null {
  const own = readDesired(view.desired.get(id));
  if (own) return { ...own, source: 'device' };
  let best: (DesiredSummary & { source: string }) | null = null;
  for (const g of groups) {
    const d = readDesired(view.groupDesired.get(g));
    if (d && (!best || d.sequence > best.sequence)) best = { ...d, source: `group:${g}` };
  }
  return best;
}

/** One row per device (`jetson-fleet devices`), filtered; times come from the devices' own timestamps. */
export function deviceRows(view: FleetView, filter: DeviceFilter = {}): DeviceRow[] {
  return view.ids().flatMap((id): DeviceRow[] => {
    const s = view.status.get(id)?.value;
    const h = view.health.get(id)?.value;
    const r = view.reports.get(id)?.value;
    const groups = s?.groups ?? [];
    if (filter.group !== undefined && !groups.includes(filter.group)) return [];
    const online = s?.state === 'online';
    if (filter.state !== undefined && filter.state !== (online ? 'online' : 'offline') && filter.state !== r?.state) return [];
    const times = [s?.ts, h?.ts].filter((x): x is string => typeof x === 'string').sort();
    const m = h?.agent.model;
    const actual = m ? { name: m.name, version: m.version } : null;
    const desired = effectiveDesired(view, id, groups);
    const d = driftOf(desired, actual, r);
    if (filter.drift === true && d.drift !== 'drift' && d.drift !== 'unknown') return [];
    return [
      {
        id,
        online,
        lastSeen: times[times.length - 1] ?? null,
        groups,
        board: {
          model: s?.board?.model ?? null,
          soc: s?.board?.soc ?? null,
          cudaArch: s?.board?.cudaArch ?? null,
          tensorrt: s?.board?.tensorrt ?? null,
          jetpack: s?.board?.jetpack ?? null,
        },
        freeDiskBytes: h?.system.disk.freeBytes ?? null,
        desired,
        actual,
        drift: d.drift,
        driftReason: d.reason,
        health: h ? (online ? h.status : 'offline') : null,
        lastHealth: h?.status ?? null,
        reasons: online ? (h?.reasons ?? []).slice(0, 3).map((x) => `${x.code}: ${x.message}`) : [],
        plugin: h?.agent.plugin ? `${h.agent.plugin.status}${h.agent.plugin.drift ? ' (drift)' : ''}` : null,
        deployment: r ? { deploymentId: r.deploymentId, state: r.state, error: r.error ? `${r.error.code}: ${r.error.message}` : null } : null,
        simulated: s?.agentVersion === 'simulator',
      },
    ];
  });
}

export function formatDeviceTable(rows: readonly DeviceRow[], now: number): string {
  const head = ['ID', 'STATUS', 'LAST SEEN', 'BOARD', 'JETPACK', 'TRT', 'DESIRED', 'ACTUAL', 'DRIFT', 'HEALTH', 'PLUGIN', 'DEPLOYMENT'];
  const body = rows.map((r) => [
    r.id + (r.simulated ? ' (sim)' : ''),
    r.online ? 'online' : 'offline',
    r.lastSeen ? `${formatDuration(Math.max(0, Math.floor((now - Date.parse(r.lastSeen)) / 1000) * 1000))} ago` : '-',
    r.board.model ?? '-',
    r.board.jetpack ?? '-',
    r.board.tensorrt ?? '-',
    r.desired ? text(r.desired.model) : '-',
    r.actual ? text(r.actual) + (r.online ? '' : ' (last seen)') : '-',
    r.drift === 'none' ? '-' : r.drift === 'drift' ? `DRIFT (${r.driftReason ?? ''})` : r.drift === 'updating' ? `updating (${r.driftReason ?? ''})` : r.drift,
    r.health ? r.health + (r.reasons[0] ? ` (${r.reasons[0]})` : '') : '-',
    r.plugin ?? '-',
    r.deployment ? `${r.deployment.deploymentId} ${r.deployment.state}` : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const online = rows.filter((r) => r.online).length;
  const drifting = rows.filter((r) => r.drift === 'drift').length;
  return [line(head), ...body.map(line), '', `${rows.length} device(s), ${online} online${drifting ? `, ${drifting} drifting` : ''}`].join('\n');
}

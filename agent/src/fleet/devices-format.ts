import { formatDuration } from './duration.js';
import type { FleetView } from './fleet-view.js';

export interface DeviceRow {
  readonly id: string;
  readonly online: boolean;
  /** ISO time of the device's last status/health, when it said one. */
  readonly lastSeen: string | null;
  readonly groups: readonly string[];
  readonly board: string | null;
  readonly jetpack: string | null;
  readonly tensorrt: string | null;
  readonly model: string | null;
  readonly health: string | null;
  readonly reasons: readonly string[];
  readonly plugin: string | null;
  readonly deployment: { readonly deploymentId: string; readonly state: string; readonly error: string | null } | null;
  readonly simulated: boolean;
}

/** One row per device (`jetson-fleet devices`); times come from the devices' own timestamps. */
export function deviceRows(view: FleetView, group?: string): DeviceRow[] {
  return view.ids().flatMap((id) => {
    const s = view.status.get(id)?.value;
    const h = view.health.get(id)?.value;
    const r = view.reports.get(id)?.value;
    const groups = s?.groups ?? [];
    if (group !== undefined && !groups.includes(group)) return [];
    const times = [s?.ts, h?.ts].filter((x): x is string => typeof x === 'string').sort();
    const m = h?.agent.model;
    return [
      {
        id,
        online: s?.state === 'online',
        lastSeen: times[times.length - 1] ?? null,
        groups,
        board: s?.board?.model ?? null,
        jetpack: s?.board?.jetpack ?? null,
        tensorrt: s?.board?.tensorrt ?? null,
        model: m ? `${m.name} ${m.version}` : null,
        health: h?.status ?? null,
        reasons: (h?.reasons ?? []).slice(0, 3).map((x) => `${x.code}: ${x.message}`),
        plugin: h?.agent.plugin ? `${h.agent.plugin.status}${h.agent.plugin.drift ? ' (drift)' : ''}` : null,
        deployment: r ? { deploymentId: r.deploymentId, state: r.state, error: r.error ? `${r.error.code}: ${r.error.message}` : null } : null,
        simulated: s?.agentVersion === 'simulator',
      },
    ];
  });
}

export function formatDeviceTable(rows: readonly DeviceRow[], now: number): string {
  const head = ['ID', 'STATUS', 'LAST SEEN', 'BOARD', 'JETPACK', 'TRT', 'MODEL', 'HEALTH', 'PLUGIN', 'DEPLOYMENT'];
  const body = rows.map((r) => [
    r.id + (r.simulated ? ' (sim)' : ''),
    r.online ? 'online' : 'offline',
    r.lastSeen ? `${formatDuration(Math.max(0, Math.floor((now - Date.parse(r.lastSeen)) / 1000) * 1000))} ago` : '-',
    r.board ?? '-',
    r.jetpack ?? '-',
    r.tensorrt ?? '-',
    r.model ?? '-',
    r.health ? r.health + (r.reasons[0] ? ` (${r.reasons[0]})` : '') : '-',
    r.plugin ?? '-',
    r.deployment ? `${r.deployment.deploymentId} ${r.deployment.state}` : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const online = rows.filter((r) => r.online).length;
  return [line(head), ...body.map(line), '', `${rows.length} device(s), ${online} online`].join('\n');
}

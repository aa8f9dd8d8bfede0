import { formatDuration } from './duration.js';
import { formatThreshold } from './thresholds.js';
import type { PlannedRollout } from './plan.js';
import type { DeviceRecord } from './types.js';

/** Left-aligned columns separated by two spaces. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

const MAX_IDS = 6;
const ids = (list: readonly string[]): string => (list.length > MAX_IDS ? `${list.slice(0, MAX_IDS).join(', ')}, … (+${list.length - MAX_IDS})` : list.join(', '));

export interface PlanFormatOptions {
  readonly wavesSpec: string;
  readonly devices: readonly DeviceRecord[];
}

/** Human rendering of a dry-run plan (`jetson-fleet rollout plan`); `--json` prints the data instead. */
export function formatPlan(p: PlannedRollout, o: PlanFormatOptions): string {
  const { targets, plan } = p;
  const offline = new Set(targets.offline);
  const byId = new Map(o.devices.map((d) => [d.id, d]));
  const pol = plan.policy;
  const lines = [
    `Rollout plan (dry run) for ${plan.deploymentId}: ${targets.online.length + targets.offline.length} compatible device(s) ` +
      `(${targets.online.length} online, ${targets.offline.length} offline → pending), ${targets.skipped.length} skipped`,
    `Policy: waves ${o.wavesSpec} · max failures ${formatThreshold(pol.maxFailures)} · health gate ${formatDuration(pol.healthGateMs)} · ` +
      `wave timeout ${formatDuration(pol.waveTimeoutMs)} · rate ${pol.rate ? `${pol.rate.count} per ${formatDuration(pol.rate.perMs)}` : 'unlimited'}`,
    `Minimum duration: ${formatDuration(p.minDurationMs)} (pacing and health gates only; downloads and engine builds add to it)`,
    '',
  ];
  if (plan.waves.length) {
    const rows = [['WAVE', 'DEVICES', 'ONLINE', 'OFFLINE', 'IDS']];
    plan.waves.forEach((w, i) => {
      const off = w.filter((id) => offline.has(id)).length;
      rows.push([String(i + 1), String(w.length), String(w.length - off), String(off), ids(w)]);
    });
    lines.push(table(rows), '');
  } else {
    lines.push('No waves: no compatible device.', '');
  }
  if (targets.skipped.length) {
    lines.push(table([['SKIPPED', 'REASON', 'WHY'], ...targets.skipped.map((s) => [s.id, s.reason, s.details.join('; ')])]), '');
  }
  if (targets.offline.length) {
    lines.push('Pending (offline now; they keep the retained desired state and catch up when they reconnect — not failures):');
    for (const id of targets.offline) {
      const seen = byId.get(id)?.lastSeen;
      lines.push(`  ${id}  last seen ${seen ? new Date(seen).toISOString() : 'never'}`);
    }
    lines.push('');
  }
  if (targets.online.length === 0 && targets.offline.length > 0) {
    lines.push('Warning: every compatible target is offline; the first wave will wait (stalled) until one of its devices reconnects.');
  }
  return lines.join('\n').trimEnd();
}

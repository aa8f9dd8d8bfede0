import { formatDuration } from './duration.js';
import { formatErrorGroups } from './error-summary.js';
import type { RolloutRecord } from './rollout-record.js';

/** One progress line (TTY redraw, or one line per change in logs). */
export function progressLine(rec: RolloutRecord, now: number): string {
  const c = rec.counts;
  const wave = `wave ${Math.min(rec.progress.wave + 1, rec.plan.waves.length)}/${rec.plan.waves.length}`;
  const counts = c
    ? `ok ${c.succeeded}  failed ${c.failed}  timed out ${c.timedOut}  in progress ${c.inProgress}  pending ${c.pending}  queued ${c.queued}  incompatible ${c.incompatible}`
    : 'no counts yet';
  return `${rec.deploymentId} ${rec.progress.phase} ${wave} | ${counts} | ${rec.decision} | ${formatDuration(Math.max(0, now - Date.parse(rec.createdAt)) - ((now - Date.parse(rec.createdAt)) % 1000))}`;
}

/** `rollout status`: the record in words. */
export function formatStatus(rec: RolloutRecord, now: number): string {
  const heartbeat = now - Date.parse(rec.writer.heartbeatAt);
  const lines = [
    `rollout ${rec.deploymentId} (target ${rec.target}): ${rec.progress.phase}`,
    `  ${rec.decision}`,
    `  waves: ${rec.plan.waves.map((w, i) => `${i + 1}:${w.length}${i < rec.progress.wave ? ' done' : i === rec.progress.wave ? ` (${rec.progress.notifiedInWave} notified)` : ''}`).join('  ')}`,
    `  ${progressLine(rec, now).split(' | ')[1] ?? ''}`,
    `  skipped: ${rec.skipped.length ? rec.skipped.map((s) => `${s.id} (${s.details.join('; ')})`).join(', ') : 'none'}`,
    `  controller ${rec.writer.clientId}, last heartbeat ${formatDuration(Math.max(0, heartbeat - (heartbeat % 1000)))} ago${rec.progress.phase === 'running' && heartbeat > ORPHANED_AFTER_MS ? ' — no controller is driving it: run `jetson-fleet rollout resume ' + rec.deploymentId + '`' : ''}`,
  ];
  const errors = rec.errors ?? [];
  if (errors.length) lines.push('  worst errors (devices per code):', ...formatErrorGroups(errors).map((l) => `    ${l}`));
  if (rec.progress.abort) lines.push(`  abort: ${rec.progress.abort.message}`);
  if (rec.rolledBack.length) lines.push(`  rolled back: ${rec.rolledBack.length} device(s)`);
  return lines.join('\n');
}

/** One row per retained rollout (`rollout list`), newest first. */
export interface RolloutListRow {
  readonly deploymentId: string;
  readonly target: string;
  readonly phase: string;
  readonly wave: string;
  readonly counts: RolloutRecord['counts'];
  readonly worstError: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** A running rollout whose controller stopped sending heartbeats (resume it). */
  readonly orphaned: boolean;
}

/** Heartbeat age past which a running rollout has no controller (rollout resume's own limit). */
export const ORPHANED_AFTER_MS = 15_000;

export function rolloutListRows(records: readonly RolloutRecord[], now: number): RolloutListRow[] {
  return [...records]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.deploymentId.localeCompare(b.deploymentId))
    .map((r) => {
      const worst = r.errors?.[0];
      return {
        deploymentId: r.deploymentId,
        target: r.target,
        phase: r.progress.phase,
        wave: `${Math.min(r.progress.wave + 1, r.plan.waves.length)}/${r.plan.waves.length}`,
        counts: r.counts,
        worstError: worst ? `${worst.code} ×${worst.devices}` : null,
        createdAt: r.createdAt,
        updatedAt: r.updatedAt,
        orphaned: r.progress.phase === 'running' && now - Date.parse(r.writer.heartbeatAt) > ORPHANED_AFTER_MS,
      };
    });
}

export function formatRolloutList(rows: readonly RolloutListRow[]): string {
  if (rows.length === 0) return 'no rollouts retained under this prefix';
  const head = ['ID', 'PHASE', 'WAVE', 'OK', 'FAILED', 'PENDING', 'WORST ERROR', 'TARGET', 'CREATED'];
  const body = rows.map((r) => [
    r.deploymentId,
    r.phase + (r.orphaned ? ' (no controller: resume it)' : ''),
    r.wave,
    String(r.counts?.succeeded ?? 0),
    String((r.counts?.failed ?? 0) + (r.counts?.timedOut ?? 0)),
    String(r.counts?.pending ?? 0),
    r.worstError ?? '-',
    r.target,
    r.createdAt,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(head), ...body.map(line)].join('\n');
}

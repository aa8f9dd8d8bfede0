import { formatDuration } from './duration.js';
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

/**
 * The rollout's progress, short enough for an 80-column progress line (cli/progress.ts):
 * fraction = settled devices (succeeded, failed, timed out) of those it targets; detail = wave
 * and counts (fail = failed + timed out, run = in progress, wait = pending + queued).
 */
export function progressParts(rec: RolloutRecord): { fraction: number | null; detail: string } {
  const c = rec.counts;
  const wave = `w${Math.min(rec.progress.wave + 1, rec.plan.waves.length)}/${rec.plan.waves.length}`;
  if (!c) return { fraction: null, detail: `${wave} starting` };
  const targeted = c.total - c.incompatible - c.excluded;
  const settled = c.succeeded + c.failed + c.timedOut;
  return {
    fraction: targeted > 0 ? settled / targeted : null,
    detail: `${wave} ok ${c.succeeded} fail ${c.failed + c.timedOut} run ${c.inProgress} wait ${c.pending + c.queued}`,
  };
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
    `  controller ${rec.writer.clientId}, last heartbeat ${formatDuration(Math.max(0, heartbeat - (heartbeat % 1000)))} ago${rec.progress.phase === 'running' && heartbeat > 15000 ? ' — no controller is driving it: run `jetson-fleet rollout resume ' + rec.deploymentId + '`' : ''}`,
  ];
  if (rec.progress.abort) lines.push(`  abort: ${rec.progress.abort.message}`);
  if (rec.rolledBack.length) lines.push(`  rolled back: ${rec.rolledBack.length} device(s)`);
  return lines.join('\n');
}

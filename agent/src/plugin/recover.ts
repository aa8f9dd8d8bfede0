import { sha256File } from '../platform/fs.js';
import { removeStaleTemps } from '../platform/library.js';
import { putOriginalBack, ldconfig } from './apply.js';
import { removeStaleBackupTemps, requireBackup } from './backup.js';
import type { PluginContext } from './context.js';
import { applyDiversion, undoDiversion } from './diversion.js';
import { clearJournal, readJournal, writeInstalled } from './journal.js';
import { verifyInstalled } from './verify.js';
import path from 'node:path';

export type RecoveryOutcome = 'none' | 'completed' | 'rolled-back' | 'restored';

/**
 * Finish or undo an install/restore that was interrupted (crash, power loss, SIGKILL).
 * The library path always holds complete old or new bytes (rename is atomic); this decides
 * which state to settle on and makes the records match. Runs before every plugin command
 * and at agent start.
 *
 * - install, new bytes in place and they verify → complete (record + diversion);
 * - install, new bytes fail verification or unknown bytes → put the original back;
 * - install, old bytes in place → undo what the install started (diversion);
 * - restore → always finish the restore.
 */
export async function recoverPlugin(ctx: PluginContext): Promise<RecoveryOutcome> {
  await removeStaleBackupTemps(ctx.state);
  const j = await readJournal(ctx.state);
  if (!j) return 'none';
  ctx.log.warn({ op: j.op, target: j.target, startedAt: j.startedAt }, 'recovering an interrupted plugin operation');
  ctx.onStep?.(`recovering an interrupted ${j.op}`);
  const hostTarget = ctx.paths.toHost(j.target);
  await removeStaleTemps(hostTarget);
  const backup = await requireBackup(ctx.state, j.backupSha);
  const current = await sha256File(hostTarget).catch(() => undefined);
  if (j.op === 'restore') {
    const v = await putOriginalBack(ctx, j.target, j.linkName, backup);
    await clearJournal(ctx.state);
    if (!v.ok) ctx.log.error({ problems: v.problems }, 'restored original failed verification');
    return 'restored';
  }
  if (current === j.newSha) {
    const v = await verifyInstalled(ctx, { target: j.target, linkName: j.linkName, sha256: j.newSha, requireCreators: true });
    if (v.ok) {
      if (j.record.diversion) await applyDiversion(ctx, j.target, j.record.diversion.divertTo, backup);
      await ldconfig(ctx, path.posix.dirname(j.target));
      await writeInstalled(ctx.state, j.record);
      await clearJournal(ctx.state);
      return 'completed';
    }
    ctx.log.error({ problems: v.problems }, 'interrupted install does not verify; rolling back');
  }
  if (current === j.oldSha && j.oldSha !== j.backupSha) {
    // A previous custom build is still in place and still recorded: nothing was changed.
    await clearJournal(ctx.state);
    return 'rolled-back';
  }
  if (current === j.oldSha) {
    if (j.addsDiversion) await undoDiversion(ctx, j.target);
    await ldconfig(ctx, path.posix.dirname(j.target));
    await clearJournal(ctx.state);
    return 'rolled-back';
  }
  await putOriginalBack(ctx, j.target, j.linkName, backup);
  await clearJournal(ctx.state);
  return 'rolled-back';
}

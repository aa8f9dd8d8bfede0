import { AgentError } from '../core/errors.js';
import { sha256 } from '../platform/fs.js';
import { removeStaleTemps } from '../platform/library.js';
import { putOriginalBack, ldconfig } from './apply.js';
import { removeStaleBackupTemps, requireBackup } from './backup.js';
import type { PluginContext } from './context.js';
import { applyDiversion, undoDiversion } from './diversion.js';
import { clearJournal, readJournal, writeInstalled } from './journal.js';
import { assertSafeLibraryDir, readLibrary } from './library-file.js';
import { resolveSystemLibrary } from './resolve.js';
import { verifyInstalled } from './verify.js';

export type RecoveryOutcome = 'none' | 'completed' | 'rolled-back' | 'restored';

/**
 * Finish or undo an install/restore that was interrupted (crash, power loss, SIGKILL).
 * The library path always holds complete old or new bytes (rename is atomic); this decides
 * which state to settle on and makes the records match. Runs under the plugin lock before
 * every root plugin command. The journal is root's (records.ts) and schema-checked
 * (journal.ts); the library it acts on is the one resolveSystemLibrary derives now, and a
 * journal written for another file stops recovery (PLUGIN_RECOVERY_MISMATCH) untouched.
 *
 * - install, new bytes in place and they verify → complete (record + diversion);
 * - install, new bytes fail verification or unknown bytes → put the original back;
 * - install, old bytes in place → undo what the install started (diversion);
 * - restore → always finish the restore.
 */
export async function recoverPlugin(ctx: PluginContext): Promise<RecoveryOutcome> {
  await removeStaleBackupTemps(ctx.records);
  const j = await readJournal(ctx.records);
  if (!j) return 'none';
  ctx.log.warn({ op: j.op, target: j.target, startedAt: j.startedAt }, 'recovering an interrupted plugin operation');
  ctx.onStep?.(`recovering an interrupted ${j.op}`);
  const lib = await resolveSystemLibrary(ctx);
  if (lib.target !== j.target || lib.linkName !== j.linkName) {
    throw new AgentError('PLUGIN_RECOVERY_MISMATCH', `The interrupted plugin ${j.op} (started ${j.startedAt}) was for ${j.target}, but the system library is now ${lib.target}; nothing was changed.`, {
      hint: `A package changed the library meanwhile. Check it with \`jetson-agent plugin status\` (reinstall the TensorRT plugin package if it is damaged: apt-get install --reinstall libnvinfer-plugin<MAJOR>), then move ${ctx.records.journalFile} aside as root and retry.`,
      details: { journalTarget: j.target, library: lib.target },
    });
  }
  await assertSafeLibraryDir(lib);
  await removeStaleTemps(lib.hostTarget);
  const backup = await requireBackup(ctx.records, j.backupSha);
  const live = await readLibrary(lib).catch(() => undefined);
  const current = live ? sha256(live.bytes) : undefined;
  if (j.op === 'restore') {
    const v = await putOriginalBack(ctx, lib, backup);
    await clearJournal(ctx.records);
    if (!v.ok) ctx.log.error({ problems: v.problems }, 'restored original failed verification');
    return 'restored';
  }
  if (current === j.newSha && live) {
    const v = await verifyInstalled(lib, { sha256: j.newSha, requireCreators: true });
    if (v.ok) {
      if (j.record.diversion) await applyDiversion(ctx, lib, backup, live.mode);
      await ldconfig(ctx, lib);
      await writeInstalled(ctx.records, j.record);
      await clearJournal(ctx.records);
      return 'completed';
    }
    ctx.log.error({ problems: v.problems }, 'interrupted install does not verify; rolling back');
  }
  if (current === j.oldSha && j.oldSha !== j.backupSha) {
    // A previous custom build is still in place and still recorded: nothing was changed.
    await clearJournal(ctx.records);
    return 'rolled-back';
  }
  if (current === j.oldSha) {
    if (j.addsDiversion) await undoDiversion(ctx, lib);
    await ldconfig(ctx, lib);
    await clearJournal(ctx.records);
    return 'rolled-back';
  }
  await putOriginalBack(ctx, lib, backup);
  await clearJournal(ctx.records);
  return 'rolled-back';
}

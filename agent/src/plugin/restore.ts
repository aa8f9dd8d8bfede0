import { AgentError } from '../core/errors.js';
import { putOriginalBack } from './apply.js';
import { readBackupMaybe, requireBackup } from './backup.js';
import type { PluginContext } from './context.js';
import { clearJournal, readInstalled, writeJournal } from './journal.js';
import { assertSafeLibraryDir, librarySha } from './library-file.js';
import { assertPackageManagerIdle } from './lock.js';
import { recoverPlugin } from './recover.js';
import { withPluginLock } from './op-lock.js';
import { publishRecordsView } from './records-view.js';
import { resolveSystemLibrary } from './resolve.js';

export interface RestoreResult {
  readonly changed: boolean;
  readonly library: string;
  readonly sha256: string;
  readonly loadCheck: string;
}

/**
 * Put the original back from the backup (atomic, verified), remove the diversion, ldconfig.
 * Everything it acts on is root's own: the library root resolves, the installed record and
 * the backup in the records directory. The request that asked for it carries no path.
 */
export async function restorePlugin(ctx: PluginContext): Promise<RestoreResult> {
  return withPluginLock(ctx, () => restore(ctx));
}

async function restore(ctx: PluginContext): Promise<RestoreResult> {
  await recoverPlugin(ctx);
  ctx.onStep?.('checking the package manager lock');
  await assertPackageManagerIdle(ctx);
  const lib = await resolveSystemLibrary(ctx);
  const installed = await readInstalled(ctx.records);
  const current = await librarySha(lib);
  if (!installed || installed.library !== lib.target) {
    if (await readBackupMaybe(ctx.records, current)) return { changed: false, library: lib.target, sha256: current, loadCheck: 'skipped: already the original' };
    throw new AgentError('PLUGIN_BACKUP_MISSING', `No custom plugin is recorded as installed at ${lib.target} and no backup matches it; nothing to restore, nothing was changed.`, {
      hint: 'If the library is damaged, reinstall the TensorRT plugin package (apt-get install --reinstall libnvinfer-plugin<MAJOR>).',
    });
  }
  const backup = await requireBackup(ctx.records, installed.backup.sha256);
  await assertSafeLibraryDir(lib);
  await writeJournal(ctx.records, { op: 'restore', target: lib.target, linkName: lib.linkName, backupSha: backup.manifest.sha256, fromSha: current, startedAt: ctx.now().toISOString() });
  await publishRecordsView(ctx);
  const v = await putOriginalBack(ctx, lib, backup);
  await clearJournal(ctx.records);
  if (!v.ok) {
    throw new AgentError('PLUGIN_VERIFY_FAILED', `The original library was written back but does not verify: ${v.problems.join('; ')}.`, {
      hint: 'Reinstall the TensorRT plugin package.',
      details: { problems: v.problems },
    });
  }
  return { changed: true, library: lib.target, sha256: await librarySha(lib), loadCheck: v.loadCheck };
}

import { AgentError } from '../core/errors.js';
import { sha256File } from '../platform/fs.js';
import { putOriginalBack } from './apply.js';
import { readBackupMaybe, requireBackup } from './backup.js';
import type { PluginContext } from './context.js';
import { clearJournal, readInstalled, writeJournal } from './journal.js';
import { assertPackageManagerIdle } from './lock.js';
import { recoverPlugin } from './recover.js';
import { withPluginLock } from './op-lock.js';
import { resolveSystemLibrary } from './resolve.js';

export interface RestoreResult {
  readonly changed: boolean;
  readonly library: string;
  readonly sha256: string;
  readonly loadCheck: string;
}

/** Put the original back from the backup (atomic, verified), remove the diversion, ldconfig. */
export async function restorePlugin(ctx: PluginContext): Promise<RestoreResult> {
  return withPluginLock(ctx, () => restore(ctx));
}

async function restore(ctx: PluginContext): Promise<RestoreResult> {
  await recoverPlugin(ctx);
  ctx.onStep?.('checking the package manager lock');
  await assertPackageManagerIdle(ctx);
  const lib = await resolveSystemLibrary(ctx);
  const installed = await readInstalled(ctx.state);
  const current = await sha256File(lib.hostTarget);
  if (!installed) {
    if (await readBackupMaybe(ctx.state, current)) return { changed: false, library: lib.target, sha256: current, loadCheck: 'skipped: already the original' };
    throw new AgentError('PLUGIN_BACKUP_MISSING', `No custom plugin is recorded as installed and no backup matches ${lib.target}; nothing to restore, nothing was changed.`, {
      hint: 'If the library is damaged, reinstall the TensorRT plugin package (apt-get install --reinstall libnvinfer-plugin<MAJOR>).',
    });
  }
  const backup = await requireBackup(ctx.state, installed.backup.sha256);
  const target = installed.library;
  await writeJournal(ctx.state, { op: 'restore', target, linkName: lib.linkName, backupSha: backup.manifest.sha256, fromSha: current, startedAt: ctx.now().toISOString() });
  const v = await putOriginalBack(ctx, target, lib.linkName, backup);
  await clearJournal(ctx.state);
  if (!v.ok) {
    throw new AgentError('PLUGIN_VERIFY_FAILED', `The original library was written back but does not verify: ${v.problems.join('; ')}.`, {
      hint: 'Reinstall the TensorRT plugin package.',
      details: { problems: v.problems },
    });
  }
  return { changed: true, library: target, sha256: await sha256File(ctx.paths.toHost(target)), loadCheck: v.loadCheck };
}

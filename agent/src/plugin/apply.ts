import path from 'node:path';
import { readBytes, sha256File } from '../platform/fs.js';
import { removeStaleTemps, replaceFileAtomic, runLdconfig } from '../platform/library.js';
import type { Backup } from './backup.js';
import type { PluginContext } from './context.js';
import { undoDiversion } from './diversion.js';
import { clearInstalled } from './journal.js';
import { verifyInstalled, type VerifyResult } from './verify.js';

/** Steps shared by install, restore, rollback and recovery. */

export async function ldconfig(ctx: PluginContext, libDir: string): Promise<void> {
  ctx.onStep?.('ldconfig');
  await runLdconfig(ctx.paths.root, [ctx.paths.toHost(libDir)]);
}

/** Put the backed-up original back at `target` (atomic), drop diversion + record, ldconfig, verify. */
export async function putOriginalBack(ctx: PluginContext, target: string, linkName: string, backup: Backup): Promise<VerifyResult> {
  const hostTarget = ctx.paths.toHost(target);
  await removeStaleTemps(hostTarget);
  const current = await sha256File(hostTarget).catch(() => undefined);
  if (current !== backup.manifest.sha256) {
    ctx.onStep?.('writing the original back');
    await replaceFileAtomic(hostTarget, await readBytes(backup.file), {
      mode: backup.manifest.mode,
      uid: backup.manifest.uid,
      gid: backup.manifest.gid,
    });
  }
  await undoDiversion(ctx, target);
  await ldconfig(ctx, path.posix.dirname(target));
  await clearInstalled(ctx.state);
  ctx.onStep?.('verifying the original');
  return verifyInstalled(ctx, { target, linkName, sha256: backup.manifest.sha256, requireCreators: false });
}

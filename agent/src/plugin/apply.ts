import path from 'node:path';
import { readBytes, readBytesMaybe, sha256, sha256File } from '../platform/fs.js';
import { removeStaleTemps, replaceFileAtomic, runLdconfig } from '../platform/library.js';
import type { Backup } from './backup.js';
import type { PluginContext } from './context.js';
import { undoDiversion } from './diversion.js';
import { diversionOf, divertPathFor } from './dpkg.js';
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
  // With our diversion in place, a package upgrade of the same file name wrote the newer
  // original to the divert path (operations.md §4.2): that one is the package's file now.
  const divertTo = divertPathFor(target);
  const diverted = (await diversionOf(ctx.paths, target))?.divertTo === divertTo ? await readBytesMaybe(ctx.paths.toHost(divertTo)) : undefined;
  const original = diverted && sha256(diverted) !== backup.manifest.sha256 ? diverted : await readBytes(backup.file);
  const originalSha = sha256(original);
  if (current !== originalSha) {
    ctx.onStep?.(original === diverted ? 'writing the upgraded original (from the diversion) back' : 'writing the original back');
    await replaceFileAtomic(hostTarget, original, {
      mode: backup.manifest.mode,
      uid: backup.manifest.uid,
      gid: backup.manifest.gid,
    });
  }
  await undoDiversion(ctx, target);
  await ldconfig(ctx, path.posix.dirname(target));
  await clearInstalled(ctx.state);
  ctx.onStep?.('verifying the original');
  return verifyInstalled(ctx, { target, linkName, sha256: originalSha, requireCreators: false });
}

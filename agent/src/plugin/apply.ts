import { sha256 } from '../platform/fs.js';
import { removeStaleTemps, replaceFileAtomic, runLdconfig } from '../platform/library.js';
import { backupBytes, type Backup } from './backup.js';
import type { PluginContext } from './context.js';
import { hostDivertPath, undoDiversion } from './diversion.js';
import { diversionOf, divertPathFor } from './dpkg.js';
import { clearInstalled } from './journal.js';
import { readLibrary, readLibraryAt } from './library-file.js';
import type { SystemLibrary } from './resolve.js';
import { verifyInstalled, type VerifyResult } from './verify.js';

/** Steps shared by install, restore, rollback and recovery. */

export async function ldconfig(ctx: PluginContext, lib: SystemLibrary): Promise<void> {
  ctx.onStep?.('ldconfig');
  await runLdconfig(ctx.paths.root, [lib.hostLibDir]);
}

/** Put the backed-up original back at the library (atomic), drop diversion + record, ldconfig, verify. */
export async function putOriginalBack(ctx: PluginContext, lib: SystemLibrary, backup: Backup): Promise<VerifyResult> {
  await removeStaleTemps(lib.hostTarget);
  const live = await readLibrary(lib).catch(() => undefined);
  // With our diversion in place, a package upgrade of the same file name wrote the newer
  // original to the divert path (docs/plugin.md "Package upgrades"): that one is the package's file now.
  const divertTo = divertPathFor(lib.target);
  const diverted =
    (await diversionOf(ctx.paths, lib.target))?.divertTo === divertTo
      ? await readLibraryAt(hostDivertPath(lib), divertTo).then(
          (r) => r.bytes,
          () => undefined,
        )
      : undefined;
  const original = diverted && sha256(diverted) !== backup.manifest.sha256 ? diverted : await backupBytes(backup);
  const originalSha = sha256(original);
  if (!live || sha256(live.bytes) !== originalSha) {
    ctx.onStep?.(original === diverted ? 'writing the upgraded original (from the diversion) back' : 'writing the original back');
    await replaceFileAtomic(lib.hostTarget, original, live?.mode ?? 0o644);
  }
  await undoDiversion(ctx, lib);
  await ldconfig(ctx, lib);
  await clearInstalled(ctx.records);
  ctx.onStep?.('verifying the original');
  return verifyInstalled(lib, { sha256: originalSha, requireCreators: false });
}

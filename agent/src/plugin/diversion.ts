import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fsyncDir, listDir, removePath } from '../platform/fs.js';
import { replaceFileAtomic } from '../platform/library.js';
import { backupBytes, type Backup } from './backup.js';
import type { PluginContext } from './context.js';
import { addDiversion, diversionOf, divertPathFor, DIVERT_SUBDIR, findDivertTool, removeDiversion } from './dpkg.js';
import type { SystemLibrary } from './resolve.js';

/**
 * Local dpkg diversion of the swapped file (docs/plugin.md "Package upgrades"): a copy of the
 * original in `<libdir>/jetson-agent-diverted/` (a subdirectory: ldconfig ignores it; never
 * the default `<file>.distrib`, which ldconfig would pick) and
 * `dpkg-divert --local --no-rename --divert <that> --add <file>`, so a package upgrade
 * writes the new original there instead of over the custom build. dpkg-divert does not take
 * the dpkg lock: callers check the lock first. The copy is the backup's bytes, mode and
 * owner derived like the library's (replaceFileAtomic), in the root-owned library directory.
 */
export async function planDiversion(ctx: PluginContext, lib: SystemLibrary): Promise<{ divertTo: string } | { unavailable: string }> {
  const tool = await findDivertTool(ctx.paths);
  if ('unavailable' in tool) return tool;
  const existing = await diversionOf(ctx.paths, lib.target);
  const divertTo = divertPathFor(lib.target);
  if (existing && existing.divertTo !== divertTo) return { unavailable: `${lib.target} is already diverted to ${existing.divertTo} by ${existing.holder}` };
  return { divertTo };
}

/** Host path of the divert copy of `lib`. */
export function hostDivertPath(lib: SystemLibrary): string {
  return path.join(lib.hostLibDir, DIVERT_SUBDIR, path.basename(lib.hostTarget));
}

export async function applyDiversion(ctx: PluginContext, lib: SystemLibrary, original: Backup, mode: number): Promise<void> {
  const tool = await findDivertTool(ctx.paths);
  if ('unavailable' in tool) return;
  const hostDivert = hostDivertPath(lib);
  const dir = path.dirname(hostDivert);
  await fsp.mkdir(dir, { mode: 0o755 }).then(
    () => fsyncDir(lib.hostLibDir),
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    },
  );
  // A symlink there could only be root's (the library dir is root's: assertSafeLibraryDir); still never write through one.
  if (!(await fsp.lstat(dir)).isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
  await replaceFileAtomic(hostDivert, await backupBytes(original), mode);
  const existing = await diversionOf(ctx.paths, lib.target);
  if (!existing) await addDiversion(ctx.paths, tool, lib.target, divertPathFor(lib.target));
}

/** Remove our diversion and the divert copy; a no-op when there is none. */
export async function undoDiversion(ctx: PluginContext, lib: SystemLibrary): Promise<void> {
  const divertTo = divertPathFor(lib.target);
  const existing = await diversionOf(ctx.paths, lib.target);
  if (existing && existing.divertTo === divertTo) {
    const tool = await findDivertTool(ctx.paths);
    if (!('unavailable' in tool)) await removeDiversion(ctx.paths, tool, lib.target);
  }
  const hostDivert = hostDivertPath(lib);
  const dir = path.dirname(hostDivert);
  const st = await fsp.lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return;
  await removePath(hostDivert);
  if ((await listDir(dir)).length === 0) {
    await removePath(dir);
    await fsyncDir(lib.hostLibDir);
  } else {
    await fsyncDir(dir);
  }
}

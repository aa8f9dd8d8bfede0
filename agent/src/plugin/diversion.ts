import path from 'node:path';
import { mkdirp, readBytes, removePath, listDir } from '../platform/fs.js';
import { replaceFileAtomic } from '../platform/library.js';
import type { Backup } from './backup.js';
import type { PluginContext } from './context.js';
import { addDiversion, diversionOf, divertPathFor, findDivertTool, removeDiversion } from './dpkg.js';

/**
 * Local dpkg diversion of the swapped file (operations.md §4.4 step 2): a copy of the
 * original in `<libdir>/jetson-agent-diverted/` (a subdirectory: ldconfig ignores it; never
 * the default `<file>.distrib`, which ldconfig would pick) and
 * `dpkg-divert --local --no-rename --divert <that> --add <file>`, so a package upgrade
 * writes the new original there instead of over the custom build. dpkg-divert does not take
 * the dpkg lock (§1 finding 3): callers check the lock first.
 */
export async function planDiversion(ctx: PluginContext, target: string): Promise<{ divertTo: string } | { unavailable: string }> {
  const tool = await findDivertTool(ctx.paths);
  if ('unavailable' in tool) return tool;
  const existing = await diversionOf(ctx.paths, target);
  const divertTo = divertPathFor(target);
  if (existing && existing.divertTo !== divertTo) return { unavailable: `${target} is already diverted to ${existing.divertTo} by ${existing.holder}` };
  return { divertTo };
}

export async function applyDiversion(ctx: PluginContext, target: string, divertTo: string, original: Backup): Promise<void> {
  const tool = await findDivertTool(ctx.paths);
  if ('unavailable' in tool) return;
  const hostDivert = ctx.paths.toHost(divertTo);
  await mkdirp(path.dirname(hostDivert), 0o755);
  await replaceFileAtomic(hostDivert, await readBytes(original.file), { mode: original.manifest.mode, uid: original.manifest.uid, gid: original.manifest.gid });
  const existing = await diversionOf(ctx.paths, target);
  if (!existing) await addDiversion(tool, target, divertTo);
}

/** Remove our diversion and the divert copy; a no-op when there is none. */
export async function undoDiversion(ctx: PluginContext, target: string): Promise<void> {
  const divertTo = divertPathFor(target);
  const existing = await diversionOf(ctx.paths, target);
  if (existing && existing.divertTo === divertTo) {
    const tool = await findDivertTool(ctx.paths);
    if (!('unavailable' in tool)) await removeDiversion(tool, target);
  }
  const hostDivert = ctx.paths.toHost(divertTo);
  await removePath(hostDivert);
  const dir = path.dirname(hostDivert);
  if ((await listDir(dir)).length === 0) await removePath(dir);
}

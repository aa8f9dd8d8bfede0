import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { listDir, lstatMaybe, readlinkMaybe } from '../platform/fs.js';
import type { PluginContext } from './context.js';

/** JetPack deb layout (docs/reference/jetson-boards.md "Detecting TensorRT, CUDA and cuDNN"). */
export const DEFAULT_TRT_LIB_DIR = '/usr/lib/aarch64-linux-gnu';

export interface SystemLibrary {
  /** Board path of the library dir (as detected: dpkg knows the library by this path). */
  readonly libDir: string;
  /** Host path of the library dir with every symlink resolved inside the root. */
  readonly hostLibDir: string;
  /** `libnvinfer_plugin.so.7` */
  readonly linkName: string;
  /** Board path of the real file behind the link, e.g. …/libnvinfer_plugin.so.7.1.3. */
  readonly target: string;
  readonly hostTarget: string;
  readonly major: string;
}

const LINK_RE = /^libnvinfer_plugin\.so\.(\d+)$/;

/**
 * Follow `libnvinfer_plugin.so.<MAJOR>` to the real file (the one the documented swap
 * overwrites under its own name, docs/plugin.md "Swap"). MAJOR comes from the detected
 * TensorRT version, else from the link present in the directory. This is the only place a
 * plugin operation gets its target from: install, restore and recovery all call it (never a
 * path from a record). The directory is resolved inside the host root (no symlink leaves it)
 * and the result is a regular file in that very directory; writers re-open it with
 * O_NOFOLLOW (library-file.ts).
 */
export async function resolveSystemLibrary(ctx: PluginContext): Promise<SystemLibrary> {
  const libDir = ctx.board.trtLibDir ?? DEFAULT_TRT_LIB_DIR;
  const realDir = await ctx.paths.resolve(libDir);
  const hostDir = ctx.paths.toHost(realDir ?? libDir);
  let major = /^(\d+)\./.exec(ctx.board.tensorrt ?? '')?.[1];
  if (!major) {
    const links = (await listDir(hostDir)).map((n) => LINK_RE.exec(n)?.[1]).filter((m): m is string => Boolean(m));
    major = links.sort((a, b) => Number(b) - Number(a))[0];
  }
  const notFound = (why: string): AgentError =>
    new AgentError('PLUGIN_LIBRARY_NOT_FOUND', `No system libnvinfer_plugin found in ${libDir}: ${why}.`, {
      hint: 'Install the TensorRT plugin package (libnvinfer-plugin<MAJOR>) or pass the right --root.',
      details: { libDir },
    });
  if (!major) throw notFound('no libnvinfer_plugin.so.<MAJOR> link');
  const linkName = `libnvinfer_plugin.so.${major}`;
  let name = linkName;
  for (let hops = 0; hops < 8; hops++) {
    const st = await lstatMaybe(path.join(hostDir, name));
    if (!st) throw notFound(`${path.posix.join(libDir, name)} does not exist`);
    if (st.isFile()) {
      return { libDir, hostLibDir: hostDir, linkName, target: path.posix.join(libDir, name), hostTarget: path.join(hostDir, name), major };
    }
    const next = await readlinkMaybe(path.join(hostDir, name));
    if (!next) throw notFound(`${name} is neither a file nor a link`);
    if (next.includes('/') && ![libDir, realDir].includes(path.posix.dirname(path.posix.resolve(libDir, next)))) {
      throw notFound(`${name} points outside the library directory (${next}); refusing to guess`);
    }
    name = path.posix.basename(next);
    if (name === '.' || name === '..' || name === '') throw notFound(`${linkName} points at ${next}, not at a file`);
  }
  throw notFound(`${linkName} is a link loop`);
}

/** Where does the SONAME link point now (basename), or undefined. */
export async function linkTarget(lib: SystemLibrary): Promise<string | undefined> {
  const t = await readlinkMaybe(path.join(lib.hostLibDir, lib.linkName));
  return t ? path.posix.basename(t) : undefined;
}

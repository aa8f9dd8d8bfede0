import path from 'node:path';
import { lstatMaybe, readlinkMaybe, realpathMaybe } from './fs.js';
import type { HostPaths } from './paths.js';

/**
 * Resolve every symlink of a board path *inside* the host root and return the board-absolute
 * real path, or undefined when it does not exist (dangling link, loop, missing file).
 * With a mirror root (`--root DIR`) an absolute link target such as
 * `libnvinfer_plugin.so.8 -> /usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so.8.5.2` or
 * `/usr/local/cuda -> /etc/alternatives/cuda` means `<root>/usr/…`, never the machine's own
 * `/usr/…`, so fs.realpath cannot be used there. With the real root the kernel resolves it.
 */
export async function resolveInRoot(paths: HostPaths, boardPath: string, maxLinks = 40): Promise<string | undefined> {
  if (paths.isRealRoot) return realpathMaybe(path.posix.resolve(boardPath));
  let pending = boardPath.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const [part, ...rest] = pending;
    pending = rest;
    if (part === undefined || part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = '/' + [...done, part].join('/');
    const target = await readlinkMaybe(paths.toHost(candidate));
    if (target === undefined) {
      done.push(part);
      continue;
    }
    if (++links > maxLinks) return undefined;
    if (target.startsWith('/')) done.length = 0;
    pending = [...target.split('/').filter(Boolean), ...pending];
  }
  const resolved = '/' + done.join('/');
  return (await lstatMaybe(paths.toHost(resolved))) ? resolved : undefined;
}

import type { HostPaths } from './paths.js';

/**
 * Resolve every symlink of a board path *inside* the host root and return the board-absolute
 * real path, or undefined when it does not exist (dangling link, loop, missing file).
 * The walk itself is HostPaths.resolve (RESOLVE_IN_ROOT semantics, agent/src/platform/paths.ts).
 */
export async function resolveInRoot(paths: HostPaths, boardPath: string, maxLinks = 40): Promise<string | undefined> {
  return paths.resolve(boardPath, maxLinks);
}

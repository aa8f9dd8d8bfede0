import path from 'node:path';
import type { CmakeInfo } from '../core/contracts/board.js';
import { probe, which } from '../platform/exec.js';
import { cmakeVersionFromShareDir, cmakeVersionFact } from './parse.js';
import { compareVersions } from './catalog.js';
import type { HostReader } from './host-reader.js';

export interface CmakeFound {
  readonly cmake: CmakeInfo | null;
  readonly source: string | null;
}

/**
 * cmake, as the plugin build will find it.
 * - Real root (`/`): run `cmake --version` for every cmake on PATH, in /usr/local/bin and in
 *   $HOME/install/bin (where the DeepStream README builds a newer cmake on JP4, docs/reference/tensorrt-oss-plugin.md "cmake minimum")
 *   and report the newest.
 * - Mirror root (`--root DIR`): never execute a binary from the tree (it may be aarch64, or
 *   anything); read the version of the dpkg `cmake` package, else the `share/cmake-X.Y` module
 *   directory name of /usr/local or /usr (two components only).
 */
export async function detectCmake(
  reader: HostReader,
  dpkgCmake: string | null,
  env: Readonly<Record<string, string | undefined>>,
  signal?: AbortSignal,
): Promise<CmakeFound> {
  if (reader.paths.isRealRoot) return runCmakes(reader, env, signal);
  if (dpkgCmake) return { cmake: { version: dpkgCmake, path: '/usr/bin/cmake' }, source: '/var/lib/dpkg/status (cmake)' };
  for (const prefix of ['/usr/local', '/usr']) {
    const versions = (await reader.list(`${prefix}/share`))
      .map(cmakeVersionFromShareDir)
      .filter((v): v is string => v !== null)
      .sort(compareVersions);
    const newest = versions[versions.length - 1];
    if (newest) return { cmake: { version: newest, path: `${prefix}/bin/cmake` }, source: `${prefix}/share/cmake-${newest}` };
  }
  return { cmake: null, source: null };
}

async function runCmakes(
  reader: HostReader,
  env: Readonly<Record<string, string | undefined>>,
  signal?: AbortSignal,
): Promise<CmakeFound> {
  const dirs = [...(env.PATH ?? '').split(':').filter(Boolean), '/usr/local/bin'];
  if (env.HOME) dirs.push(path.join(env.HOME, 'install', 'bin'));
  const seen = new Set<string>();
  let best: CmakeInfo | null = null;
  for (const dir of dirs) {
    const file = await which(path.join(path.resolve(dir), 'cmake'));
    if (!file || seen.has(file)) continue;
    seen.add(file);
    try {
      const res = await probe(file, ['--version'], { timeoutMs: 15_000, ...(signal ? { signal } : {}) });
      const parsed = cmakeVersionFact(res.stdout);
      if (parsed.warning) reader.warn(`${file}: ${parsed.warning}`);
      if (parsed.value && (!best || compareVersions(parsed.value, best.version) > 0)) best = { version: parsed.value, path: file };
    } catch (err) {
      reader.warn(`${file} --version failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  return { cmake: best, source: best ? `${best.path} --version` : null };
}

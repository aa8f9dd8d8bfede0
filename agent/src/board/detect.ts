import path from 'node:path';
import type { BoardInfo } from '../core/contracts/board.js';
import { listDir, readBytesMaybe, readTextMaybe, readlinkMaybe } from '../platform/fs.js';
import type { HostPaths } from '../platform/paths.js';

/**
 * MINIMAL PLACEHOLDER (foundation bootstrap): reads only DT compatible, nv_tegra_release
 * line 1, NvInferVersion.h and the libnvinfer_plugin link. The full detection (all
 * sources, precedence, catalog tables, warnings) replaces this file; the signature stays.
 */
export interface DetectOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
}

const ARCH: Record<string, number> = { tegra210: 53, tegra186: 62, tegra194: 72, tegra234: 87, tegra264: 110 };
const LIB_DIR = '/usr/lib/aarch64-linux-gnu';

export async function detectBoard(paths: HostPaths, _options: DetectOptions = {}): Promise<BoardInfo> {
  const compat = (await readBytesMaybe(paths.toHost('/proc/device-tree/compatible')))?.toString('latin1').split('\0') ?? [];
  const soc = compat.map((c) => /^nvidia,(tegra\d+)$/.exec(c)?.[1]).find(Boolean) ?? null;
  const rel = (await readTextMaybe(paths.toHost('/etc/nv_tegra_release')))?.split('\n')[0] ?? '';
  const m = /^# R(\d+) \(release\), REVISION: (\d+)(?:\.(\d+))?/.exec(rel);
  const l4t = m ? `${m[1]}.${m[2]}.${m[3] ?? '0'}` : null;
  const header = (await readTextMaybe(paths.toHost('/usr/include/aarch64-linux-gnu/NvInferVersion.h'))) ?? '';
  const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => new RegExp(`#define NV_TENSORRT_${k} (\\d+)`).exec(header)?.[1]);
  const tensorrt = v.every(Boolean) ? v.join('.') : null;
  let pluginLibrary: string | null = null;
  for (const name of await listDir(paths.toHost(LIB_DIR))) {
    if (!/^libnvinfer_plugin\.so\.\d+$/.test(name)) continue;
    const target = await readlinkMaybe(paths.toHost(path.join(LIB_DIR, name)));
    pluginLibrary = target ? path.posix.join(LIB_DIR, path.posix.basename(target)) : path.posix.join(LIB_DIR, name);
  }
  const major = tensorrt?.split('.').slice(0, 2).join('.');
  return {
    isJetson: soc !== null,
    model: null,
    module: null,
    soc,
    chipId: null,
    cudaArch: soc ? (ARCH[soc] ?? null) : null,
    l4t,
    jetpack: null,
    cuda: null,
    cudnn: null,
    tensorrt,
    cmake: null,
    trtOssBranch: major ? `release/${major}` : null,
    pluginLibrary,
    trtLibDir: pluginLibrary ? LIB_DIR : null,
    pluginPackage: null,
    sources: {},
    warnings: ['minimal placeholder detection'],
  };
}

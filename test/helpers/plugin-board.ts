import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BoardInfo } from '../../agent/src/core/contracts/board.js';
import { nanoBoard } from './convert-fixture.js';

export const LIB_DIR = '/usr/lib/aarch64-linux-gnu';

export interface LibSpec {
  readonly soname: string;
  readonly creators?: readonly string[];
  readonly symbols?: readonly string[];
  /** Extra text baked in, so two builds differ in bytes. */
  readonly marker?: string;
}

/**
 * Compile a REAL shared library with the host C compiler (x86-64 on CI, aarch64 on a board):
 * creator names as .rodata strings, exported functions, the given SONAME.
 */
export function compileLib(out: string, spec: LibSpec): string {
  const src = `${out}.c`;
  const creators = (spec.creators ?? []).map((c, i) => `const char *creator_${i}(void) { return "${c}"; }`).join('\n');
  const symbols = (spec.symbols ?? []).map((s) => `int ${s}(void *a, const char *b) { (void)a; (void)b; return 1; }`).join('\n');
  writeFileSync(src, `${creators}\n${symbols}\nconst char marker[] = "${spec.marker ?? 'lib'}";\n`);
  mkdirSync(path.dirname(out), { recursive: true });
  execFileSync('cc', ['-shared', '-fPIC', `-Wl,-soname,${spec.soname}`, '-o', out, src]);
  return out;
}

export const ALL_CREATORS = ['BatchTilePlugin_TRT', 'BatchedNMS_TRT', 'BatchedNMSDynamic_TRT', 'ResizeNearest_TRT'];
export const GOOD_SYMBOLS = ['initLibNvInferPlugins', 'getPluginRegistry'];

export interface BoardRoot {
  readonly root: string;
  /** Host path of the system file. */
  readonly hostTarget: string;
  readonly target: string;
  readonly hostLibDir: string;
  readonly board: BoardInfo;
}

/**
 * A Jetson Nano host root (JetPack 4.4: L4T R32.4.3, TensorRT 7.1.3) with the real link
 * chain libnvinfer_plugin.so -> .so.7 -> .so.7.1.3, an ld.so.conf, a dpkg admin dir
 * (for diversions and the lock files) and a stock-like plugin library (no BatchTile, as in
 * TensorRT 7.1's package, docs/reference/tensorrt-oss-plugin.md "Why YOLOv3 needs it").
 */
export function makeBoardRoot(root: string, options: { tensorrt?: string; dpkg?: boolean } = {}): BoardRoot {
  const trt = options.tensorrt ?? '7.1.3';
  const [major, minor, patch] = trt.split('.');
  const hostLibDir = path.join(root, LIB_DIR);
  mkdirSync(hostLibDir, { recursive: true });
  const name = `libnvinfer_plugin.so.${trt}`;
  const hostTarget = compileLib(path.join(hostLibDir, name), {
    soname: `libnvinfer_plugin.so.${major}`,
    creators: ['BatchedNMS_TRT'],
    symbols: ['initLibNvInferPlugins'],
    marker: 'stock',
  });
  symlinkSync(name, path.join(hostLibDir, `libnvinfer_plugin.so.${major}`));
  symlinkSync(`libnvinfer_plugin.so.${major}`, path.join(hostLibDir, 'libnvinfer_plugin.so'));
  const w = (rel: string, text: string | Buffer): void => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  };
  w('etc/ld.so.conf', `${LIB_DIR}\n`);
  w('usr/include/aarch64-linux-gnu/NvInferVersion.h', `#define NV_TENSORRT_MAJOR ${major}\n#define NV_TENSORRT_MINOR ${minor}\n#define NV_TENSORRT_PATCH ${patch}\n#define NV_TENSORRT_BUILD 0\n`);
  w('etc/nv_tegra_release', '# R32 (release), REVISION: 4.3, GCID: 21589087, BOARD: t210ref, EABI: aarch64, DATE: Fri Jun 26 04:38:25 UTC 2020\n');
  w('proc/device-tree/compatible', Buffer.from('nvidia,p3449-0000-b00+p3448-0000-b00\0nvidia,jetson-nano\0nvidia,tegra210\0'));
  if (options.dpkg !== false) {
    w('var/lib/dpkg/lock-frontend', '');
    w('var/lib/dpkg/lock', '');
    w('var/lib/dpkg/diversions', '');
  }
  const board: BoardInfo = nanoBoard({
    cuda: '10.2.89',
    tensorrt: trt,
    trtOssBranch: `release/${major}.${minor}`,
    pluginLibrary: path.posix.join(LIB_DIR, name),
    trtLibDir: LIB_DIR,
  });
  return { root, hostTarget, target: path.posix.join(LIB_DIR, name), hostLibDir, board };
}

/** Host path of the root-only records dir of a board root (plugin.recordsDir's default under --root). */
export function recordsDirOf(b: BoardRoot): string {
  return path.join(b.root, 'var/lib/jetson-agent-root');
}

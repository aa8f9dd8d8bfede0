import { compareVersions } from '../core/versions.js';
export { compareVersions };
/**
 * Version helpers for TensorRT OSS planning (pure). Header parsing follows
 * jetson-platform.md §3.3: `NV_TENSORRT_MAJOR 7` and, from TensorRT 10.11 on, the indirect
 * form `NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE` with `TRT_MAJOR_ENTERPRISE 10`.
 */
export interface TrtHeaderVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** NV_TENSORRT_SONAME_MAJOR when present (TRT 6–8), else MAJOR. */
  readonly sonameMajor: number;
}

export function parseNvInferVersionHeader(text: string): TrtHeaderVersion | undefined {
  const defines = new Map<string, string>();
  for (const m of text.matchAll(/^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)\s+([A-Za-z0-9_]+)\s*(?:\/\/.*|\/\*.*)?$/gm)) {
    if (m[1] && m[2]) defines.set(m[1], m[2]);
  }
  const resolve = (name: string): number | undefined => {
    let v = defines.get(name);
    for (let i = 0; i < 4 && v !== undefined && !/^\d+$/.test(v); i++) v = defines.get(v);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const major = resolve('NV_TENSORRT_MAJOR');
  const minor = resolve('NV_TENSORRT_MINOR');
  const patch = resolve('NV_TENSORRT_PATCH');
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  return { major, minor, patch, sonameMajor: resolve('NV_TENSORRT_SONAME_MAJOR') ?? major };
}


/** `cmake version 3.25.1` → `3.25.1` */
export function parseCmakeVersion(output: string): string | undefined {
  return /cmake version (\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1];
}

/** `Cuda compilation tools, release 10.2, V10.2.89` → `10.2.89` */
export function parseNvccVersion(output: string): string | undefined {
  return /\bV(\d+\.\d+\.\d+)/.exec(output)?.[1] ?? /release (\d+\.\d+)/.exec(output)?.[1];
}

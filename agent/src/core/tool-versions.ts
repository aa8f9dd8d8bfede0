/**
 * The one parser of each version format the agent reads from NVIDIA and build tools (board
 * detection, the plugin and runner builds). Pure; the callers read the files and outputs.
 */

export interface TrtHeaderVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** NV_TENSORRT_BUILD when present. */
  readonly build: number | null;
  /** NV_TENSORRT_SONAME_MAJOR when present (TensorRT 6–8), else MAJOR. */
  readonly sonameMajor: number;
  /** MAJOR.MINOR.PATCH */
  readonly version: string;
}

/**
 * `NvInferVersion.h` (docs/reference/tensorrt-versions.md): plain `#define NV_TENSORRT_MAJOR 8`,
 * and from TensorRT 10.11 on the indirect form `#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE`
 * with `#define TRT_MAJOR_ENTERPRISE 10`, so every define is collected and names are resolved
 * (up to 8 steps; a cycle or a dangling name resolves to nothing). The first define of a name
 * counts, as the preprocessor takes the first one before any #undef. undefined when
 * MAJOR/MINOR/PATCH do not resolve.
 */
export function parseNvInferVersionHeader(text: string): TrtHeaderVersion | undefined {
  const defines = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*#\s*define\s+(\w+)\s+([A-Za-z_]\w*|\d+)\b/.exec(line);
    if (m?.[1] && m[2] && !defines.has(m[1])) defines.set(m[1], m[2]);
  }
  const resolve = (name: string): number | null => {
    let value = defines.get(name);
    for (let depth = 0; value !== undefined && depth < 8; depth++) {
      if (/^\d+$/.test(value)) return Number(value);
      value = defines.get(value);
    }
    return null;
  };
  const major = resolve('NV_TENSORRT_MAJOR');
  const minor = resolve('NV_TENSORRT_MINOR');
  const patch = resolve('NV_TENSORRT_PATCH');
  if (major === null || minor === null || patch === null) return undefined;
  return { major, minor, patch, build: resolve('NV_TENSORRT_BUILD'), sonameMajor: resolve('NV_TENSORRT_SONAME_MAJOR') ?? major, version: `${major}.${minor}.${patch}` };
}

/** `cmake --version` output: `cmake version 3.22.1` → `3.22.1` (also `3.31.0-rc1` → `3.31.0`). */
export function parseCmakeVersion(output: string): string | undefined {
  return /cmake version (\d+\.\d+(?:\.\d+)?)/i.exec(output)?.[1];
}

/** `nvcc --version` output: `Cuda compilation tools, release 10.2, V10.2.89` → `10.2.89` (else the release). */
export function parseNvccVersion(output: string): string | undefined {
  return /\bV(\d+\.\d+\.\d+)/.exec(output)?.[1] ?? /release (\d+\.\d+)/.exec(output)?.[1];
}

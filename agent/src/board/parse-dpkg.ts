/**
 * Pure parser for `/var/lib/dpkg/status` and the stack versions it reveals
 * (docs/reference/jetson-boards.md "Detection sources", "Compute stack per JetPack" and "Detecting TensorRT, CUDA and cuDNN").
 */

export interface DpkgPackage {
  readonly name: string;
  /** Full Debian version, e.g. `7.1.3-1+cuda10.2`. */
  readonly version: string;
  readonly architecture: string | null;
}

/**
 * Stanzas separated by blank lines; `Field: value` lines, continuation lines start with a space.
 * Only packages whose Status ends in `installed` count (removed packages keep a stanza with
 * `deinstall ok config-files`). Stanzas without Package or Version are skipped and counted.
 */
export function parseDpkgStatus(text: string): { packages: Map<string, DpkgPackage>; skipped: number } {
  const packages = new Map<string, DpkgPackage>();
  let skipped = 0;
  for (const stanza of text.split(/\r?\n[ \t]*\r?\n/)) {
    if (!stanza.trim()) continue;
    const fields = new Map<string, string>();
    for (const line of stanza.split(/\r?\n/)) {
      const m = /^([A-Za-z][\w-]*):\s*(.*)$/.exec(line);
      if (m?.[1] && m[2] !== undefined) fields.set(m[1].toLowerCase(), m[2].trim());
    }
    const name = fields.get('package');
    const version = fields.get('version');
    const status = fields.get('status') ?? 'install ok installed';
    if (!name || !version) {
      skipped++;
      continue;
    }
    if (!/\binstalled$/.test(status)) continue;
    packages.set(name, { name, version, architecture: fields.get('architecture') ?? null });
  }
  return { packages, skipped };
}

/** Debian version without epoch and revision: `1:3.22.1-1ubuntu1` → `3.22.1`. */
export function upstreamVersion(version: string): string {
  return version.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
}

/** First `count` numeric components: `10.3.0.30` → `10.3.0`; null when it does not start with a number. */
function numeric(version: string, count: number): string | null {
  const parts = /^\d+(?:\.\d+)*/.exec(upstreamVersion(version))?.[0].split('.');
  return parts ? parts.slice(0, count).join('.') : null;
}

export interface DpkgStack {
  readonly tensorrt: { readonly version: string; readonly package: string } | null;
  readonly pluginPackage: { readonly name: string; readonly version: string } | null;
  readonly cudnn: { readonly version: string; readonly package: string } | null;
  readonly cuda: { readonly version: string; readonly package: string } | null;
  /** From `nvidia-l4t-core` (jtop's fallback when nv_tegra_release is missing). */
  readonly l4t: string | null;
  /** From the `nvidia-jetpack` meta package (absent on minimal images). */
  readonly jetpack: string | null;
  readonly cmake: string | null;
}

/** Highest-numbered package whose name matches, e.g. libnvinfer10 over libnvinfer8. */
function pick(packages: ReadonlyMap<string, DpkgPackage>, re: RegExp): DpkgPackage | null {
  let best: { pkg: DpkgPackage; n: number } | null = null;
  for (const pkg of packages.values()) {
    const m = re.exec(pkg.name);
    if (!m) continue;
    const n = Number(m[1] ?? 0) * 1000 + Number(m[2] ?? 0);
    if (!best || n > best.n) best = { pkg, n };
  }
  return best?.pkg ?? null;
}

/**
 * The stack as dpkg sees it (docs/reference/jetson-boards.md "Detecting TensorRT, CUDA and cuDNN"): TensorRT from `libnvinfer<N>` (fallback: meta `tensorrt`),
 * plugin from `libnvinfer-plugin<N>`, cuDNN from `libcudnn<N>` / `libcudnn9-cuda-12`, CUDA from
 * `cuda-cudart-X-Y` (fallback `cuda-toolkit-X-Y`), L4T from `nvidia-l4t-core`.
 */
export function dpkgStack(packages: ReadonlyMap<string, DpkgPackage>): DpkgStack {
  const withVersion = (pkg: DpkgPackage | null, count: number) => {
    const version = pkg ? numeric(pkg.version, count) : null;
    return pkg && version ? { version, package: pkg.name } : null;
  };
  const trt = pick(packages, /^libnvinfer(\d+)$/) ?? packages.get('tensorrt') ?? null;
  const plugin = pick(packages, /^libnvinfer-plugin(\d+)$/);
  const cuda = pick(packages, /^cuda-cudart-(\d+)-(\d+)$/) ?? pick(packages, /^cuda-toolkit-(\d+)-(\d+)$/);
  const cmake = packages.get('cmake');
  const l4tCore = packages.get('nvidia-l4t-core');
  const jetpack = packages.get('nvidia-jetpack');
  return {
    tensorrt: withVersion(trt, 3),
    pluginPackage: plugin ? { name: plugin.name, version: plugin.version } : null,
    cudnn: withVersion(pick(packages, /^libcudnn(\d+)(?:-cuda-(\d+))?$/), 3),
    cuda: withVersion(cuda, 3),
    l4t: l4tCore ? numeric(l4tCore.version, 3) : null,
    jetpack: jetpack ? numeric(jetpack.version, 3) : null,
    cmake: cmake ? numeric(cmake.version, 3) : null,
  };
}

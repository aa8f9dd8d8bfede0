/**
 * Pure parsers for the board identification files (no I/O, no platform imports; only the
 * pure catalog).
 * Formats and sample strings: docs/reference/jetson-boards.md "Detection sources", "nv_tegra_release" and "Detecting TensorRT, CUDA and cuDNN".
 * Malformed input never throws: the result carries nulls and a `warning` saying what was wrong.
 */

import { socForModule } from './catalog.js';
import { parseCmakeVersion, parseNvInferVersionHeader } from '../core/tool-versions.js';

export { parseDpkgStatus, dpkgStack, upstreamVersion, type DpkgPackage, type DpkgStack } from './parse-dpkg.js';

export interface Parsed<T> {
  readonly value: T;
  /** Set when the input was present but not (fully) understood. */
  readonly warning?: string;
}

const ok = <T>(value: T): Parsed<T> => ({ value });
const partial = <T>(value: T, warning: string): Parsed<T> => ({ value, warning });

/** DT string properties are NUL-terminated; tolerate a missing NUL and stray whitespace. */
function dtString(input: Uint8Array | string): string {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  return text.replace(/\0+$/, '').trim();
}

export interface Compatible {
  /** Entries in file order (most specific first). */
  readonly entries: readonly string[];
  /** `tegraNNN` / `tegra23x` token of the first `nvidia,tegra…` entry, as written (not validated). */
  readonly socToken: string | null;
  /** Module part number: after `+` of a `carrier+module` entry, else a lone `nvidia,pNNNN-NNNN`. */
  readonly module: string | null;
  /** Any `nvidia,tegra…` entry: the host is a Tegra/Jetson even when the SoC is unknown. */
  readonly tegra: boolean;
}

/** docs/reference/jetson-boards.md "Detection sources": `/proc/device-tree/compatible`: NUL-separated list; split the bytes on `\0`. */
export function parseCompatible(input: Uint8Array | string): Parsed<Compatible> {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  // DT entries never contain whitespace: one that does was written without NUL separators.
  const spaced = text.split('\0').some((e) => /\S\s+\S/.test(e.trim()));
  const entries = text.split(/[\0\s]+/).filter((e) => e.length > 0);
  const socToken = entries.map((e) => /^nvidia,(tegra\w+)$/.exec(e)?.[1]).find((s) => s !== undefined) ?? null;
  const carrierModule = entries.map((e) => /^nvidia,p\d{4}-\d{4}[\w-]*\+(p\d{4}-\d{4})/.exec(e)?.[1]).find(Boolean);
  // A lone `nvidia,pNNNN-NNNN` may be the carrier/devkit (Nano: `nvidia,p3450-0000`): accept
  // only module board ids from the table in docs/reference/jetson-boards.md "Module part numbers".
  const lone = entries.map((e) => /^nvidia,(p\d{4}-\d{4})$/.exec(e)?.[1]).find((p) => p !== undefined && socForModule(p) !== null);
  const value: Compatible = {
    entries,
    socToken,
    module: carrierModule ?? lone ?? null,
    tegra: entries.some((e) => e.startsWith('nvidia,tegra')),
  };
  if (entries.length === 0) return partial(value, 'compatible is empty');
  if (spaced) return partial(value, 'compatible entries are separated by whitespace, not NUL bytes');
  return ok(value);
}

/** docs/reference/jetson-boards.md "Detection sources": `/proc/device-tree/model`: NUL-terminated marketing text, display only. */
export function parseModel(input: Uint8Array | string): Parsed<string | null> {
  const model = dtString(input);
  return model ? ok(model) : partial(null, 'model is empty');
}

/** docs/reference/jetson-boards.md "Detection sources": `tegra_chip_id`: a decimal number (33 Nano/TX1, 24 TX2, 25 Xavier, 35 Orin, 38 Thor). */
export function parseChipId(text: string): Parsed<number | null> {
  const s = text.replace(/\0/g, '').trim();
  if (/^\d+$/.test(s)) return ok(Number(s));
  if (/^0x[0-9a-f]+$/i.test(s)) return ok(Number.parseInt(s, 16));
  return partial(null, `tegra_chip_id is not a number: "${s.slice(0, 40)}"`);
}

export interface DtsFilename {
  readonly socToken: string | null;
  readonly module: string | null;
  /** Path component before `kernel-dts` (porg, quill, galen, p3768 …). */
  readonly codename: string | null;
}

/**
 * docs/reference/jetson-boards.md "Detection sources": `nvidia,dtsfilename` (JP4/JP5), e.g.
 * `.../t210/porg/kernel-dts/tegra210-p3448-0000-p3449-0000-b00.dts`: SoC = first dash token of
 * the file name, module = first `pNNNN-NNNN` (jtop's rule).
 */
export function parseDtsFilename(input: Uint8Array | string): Parsed<DtsFilename> {
  const text = dtString(input);
  const parts = text.split('/');
  const base = parts[parts.length - 1] ?? '';
  const socToken = /^(tegra\w+?)-/.exec(base)?.[1] ?? null;
  const module = /(?:^|-)(p\d{4}-\d{4})(?:-|\.|$)/.exec(base)?.[1] ?? null;
  const k = parts.indexOf('kernel-dts');
  const codename = k > 0 ? (parts[k - 1] ?? null) : null;
  const value = { socToken, module, codename };
  if (!text) return partial(value, 'nvidia,dtsfilename is empty');
  if (!socToken) return partial(value, `nvidia,dtsfilename does not start with a tegra SoC: "${base.slice(0, 80)}"`);
  return ok(value);
}

export interface TegraRelease {
  /** `32.4.3`: major from `R32`, REVISION normalised to two components. */
  readonly l4t: string | null;
  readonly major: number | null;
  /** BOARD field (t210ref, t186ref, generic): informational, never used for the SoC (docs/reference/jetson-boards.md "nv_tegra_release"). */
  readonly board: string | null;
}

/**
 * docs/reference/jetson-boards.md "nv_tegra_release": `/etc/nv_tegra_release`: line 1 only (R36+ adds lines),
 * `# R32 (release), REVISION: 4.3, GCID: …, BOARD: t210ref, EABI: aarch64, DATE: …`.
 * `REVISION: 5` and `5.0` both mean 32.5.0. DATE is not parsed (R39 writes `09:28:48 PM`).
 */
export function parseNvTegraRelease(text: string): Parsed<TegraRelease> {
  const line = (text.split(/\r?\n/)[0] ?? '').trim();
  const head = /^#\s*R(\d+)\s*\(release\)/.exec(line);
  const board = /\bBOARD:\s*([^,\s]+)/.exec(line)?.[1] ?? null;
  if (!head) {
    const shown = line ? `"${line.slice(0, 80)}"` : 'an empty first line';
    return partial({ l4t: null, major: null, board }, `nv_tegra_release line 1 is not "# R<major> (release), …": got ${shown}`);
  }
  const major = Number(head[1]);
  const rev = /\bREVISION:\s*([^,\s]*)/.exec(line)?.[1] ?? '';
  const m = /^(\d+)(?:\.(\d+))?$/.exec(rev);
  if (!m) {
    return partial({ l4t: null, major, board }, `nv_tegra_release has R${major} but an unknown REVISION format "${rev}"`);
  }
  return ok({ l4t: `${major}.${Number(m[1])}.${Number(m[2] ?? '0')}`, major, board });
}

export interface TrtVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly build: number | null;
  /** MAJOR.MINOR.PATCH */
  readonly version: string;
}

/** NvInferVersion.h as a board fact: the one parser (core/tool-versions.ts) with this file's warning convention. */
export function nvInferVersionFact(text: string): Parsed<TrtVersion | null> {
  const v = parseNvInferVersionHeader(text);
  if (!v) return partial(null, 'NvInferVersion.h has no resolvable NV_TENSORRT_MAJOR/MINOR/PATCH');
  return ok({ major: v.major, minor: v.minor, patch: v.patch, build: v.build, version: v.version });
}

/**
 * docs/reference/jetson-boards.md "Detecting TensorRT, CUDA and cuDNN": library file names: `libnvinfer.so.8.5.2` → `8.5.2` (Jetson debs use 3 components; x86
 * tarballs 4, e.g. `.so.8.5.1.7` → `8.5.1`). The SONAME link `.so.8` has no full version → null.
 */
export function versionFromLibName(fileName: string, lib: string): string | null {
  const esc = lib.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${esc}\\.so\\.(\\d+\\.\\d+\\.\\d+)(?:\\.\\d+)?$`).exec(fileName);
  return m?.[1] ?? null;
}

/** `libnvinfer_plugin.so.8` → 8 (the SONAME link name); anything else → null. */
export function sonameMajor(fileName: string, lib: string): number | null {
  const esc = lib.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^${esc}\\.so\\.(\\d+)$`).exec(fileName);
  return m?.[1] ? Number(m[1]) : null;
}

/** docs/reference/jetson-boards.md "Detecting TensorRT, CUDA and cuDNN": `/usr/local/cuda/version.txt` (JP4): `CUDA Version 10.2.89`. */
export function parseCudaVersionTxt(text: string): Parsed<string | null> {
  const m = /CUDA Version\s+(\d+\.\d+(?:\.\d+)?)/.exec(text);
  return m?.[1] ? ok(m[1]) : partial(null, `cuda version.txt has no "CUDA Version X.Y.Z": "${text.trim().slice(0, 60)}"`);
}

/**
 * docs/reference/jetson-boards.md "Detecting TensorRT, CUDA and cuDNN": `/usr/local/cuda/version.json` (JP5+): `cuda_nvcc.version` (what `nvcc --version`
 * prints, e.g. 11.4.315), falling back to the toolkit's `cuda.version` (11.4.19).
 */
export function parseCudaVersionJson(text: string): Parsed<string | null> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return partial(null, 'cuda version.json is not valid JSON');
  }
  const pick = (key: string): string | null => {
    const v = (doc as Record<string, { version?: unknown } | undefined> | null)?.[key]?.version;
    return typeof v === 'string' && /^\d+\.\d+/.test(v) ? v : null;
  };
  const version = pick('cuda_nvcc') ?? pick('cuda');
  return version ? ok(version) : partial(null, 'cuda version.json has neither cuda_nvcc.version nor cuda.version');
}

/** docs/reference/jetson-boards.md "Detecting TensorRT, CUDA and cuDNN": cuDNN headers (`cudnn_version.h`, `cudnn_version_v8.h`, old `cudnn.h`): CUDNN_MAJOR/MINOR/PATCHLEVEL. */
export function parseCudnnHeader(text: string): Parsed<string | null> {
  const get = (name: string): string | undefined => new RegExp(`^\\s*#\\s*define\\s+${name}\\s+(\\d+)`, 'm').exec(text)?.[1];
  const major = get('CUDNN_MAJOR');
  const minor = get('CUDNN_MINOR');
  const patch = get('CUDNN_PATCHLEVEL');
  if (major === undefined || minor === undefined) return partial(null, 'cuDNN header has no CUDNN_MAJOR/CUDNN_MINOR');
  return ok(`${major}.${minor}.${patch ?? '0'}`);
}

/** `cmake --version` output as a board fact (the one parser: core/tool-versions.ts). */
export function cmakeVersionFact(output: string): Parsed<string | null> {
  const v = parseCmakeVersion(output);
  return v ? ok(v) : partial(null, `unexpected "cmake --version" output: "${output.trim().slice(0, 60)}"`);
}

/** `usr/share/cmake-3.10` (the module dir every cmake install has) → `3.10`. */
export function cmakeVersionFromShareDir(dirName: string): string | null {
  return /^cmake-(\d+\.\d+)$/.exec(dirName)?.[1] ?? null;
}

/** `/etc/os-release`: PRETTY_NAME (or NAME VERSION_ID), shown for non-Jetson hosts. */
export function parseOsRelease(text: string): Parsed<string | null> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) fields.set(m[1], m[2].replace(/^(["'])(.*)\1$/, '$2'));
  }
  const pretty = fields.get('PRETTY_NAME') ?? ([fields.get('NAME'), fields.get('VERSION_ID')].filter(Boolean).join(' ') || null);
  return pretty ? ok(pretty) : partial(null, 'os-release has no PRETTY_NAME or NAME');
}

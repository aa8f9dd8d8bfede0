import { createHash } from 'node:crypto';
import type { ModelManifest } from '../core/contracts/model.js';

/**
 * Converter argument derivation (issue #4 §5; docs/reference/tao-specs.md §8). Pure: paths and the key
 * come in as values, so the same function yields the real argv and, with placeholders, the
 * canonical argv the engine cache key is computed from (no key, no state-dir paths).
 */
export type Precision = ModelManifest['precision'];
export type ConverterTool = 'tlt-converter' | 'trtexec';
export type Payload = 'uff' | 'onnx';

export interface ArgPaths {
  readonly model: string;
  readonly engine: string;
  readonly calibration: string | undefined;
  /** The model key (or KEY_PLACEHOLDER). */
  readonly key: string | undefined;
}

export interface ArgInputs {
  readonly manifest: ModelManifest;
  readonly format: ModelManifest['format'];
  /** Payload kind: from the .etlt header, 'onnx' for a plain .onnx. */
  readonly payload: Payload;
  readonly precision: Precision;
  readonly maxBatch: number;
  readonly workspaceBytes: number;
  /** `7.1.3`; decides trtexec's workspace flag. */
  readonly tensorrt: string | null;
}

export const KEY_PLACEHOLDER = '***';
export const CANONICAL_PATHS: ArgPaths = { model: '<model>', engine: '<engine>', calibration: '<calibration>', key: KEY_PLACEHOLDER };

export interface ConvertArgs {
  readonly tool: ConverterTool;
  readonly args: readonly string[];
}

/** What the shape flags need from a manifest (or from a spec summary, for `spec show`). */
export interface ShapeSource {
  readonly input: { readonly name: string; readonly channels: number; readonly height: number; readonly width: number };
  readonly outputs: readonly string[];
}

/**
 * The shape flags of both converters for one model and max batch (docs/reference/tao-specs.md
 * §8): tao-converter `-d C,H,W` (UFF payload, implicit batch) or `-p <input>,<min>,<opt>,<max>`
 * (ONNX payload, dynamic batch; opt = max), `-o` nodes, `-i nchw`; trtexec
 * `--minShapes/--optShapes/--maxShapes=<input>:NxCxHxW`.
 */
export interface ShapeArgs {
  readonly d: string;
  readonly p: string;
  readonly o: string;
  readonly i: 'nchw';
  readonly minShapes: string;
  readonly optShapes: string;
  readonly maxShapes: string;
}

export function shapeArgs(m: ShapeSource, maxBatch: number): ShapeArgs {
  const { name, channels: c, height: h, width: w } = m.input;
  const shape = (n: number): string => `${n}x${c}x${h}x${w}`;
  return {
    d: `${c},${h},${w}`,
    p: `${name},${shape(1)},${shape(maxBatch)},${shape(maxBatch)}`,
    o: m.outputs.join(','),
    i: 'nchw',
    minShapes: `${name}:${shape(1)}`,
    optShapes: `${name}:${shape(maxBatch)}`,
    maxShapes: `${name}:${shape(maxBatch)}`,
  };
}

function trtAtLeast(version: string | null, major: number, minor: number): boolean {
  if (!version) return true;
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/**
 * .etlt → tlt-converter/tao-converter. UFF payload: `-d C,H,W` (implicit batch, `-m` max batch);
 * ONNX payload: `-p <input>,1xCxHxW,<opt>xCxHxW,<max>xCxHxW` (dynamic batch; opt = max) —
 * docs/reference/tao-specs.md §8. `-i nchw`, `-w` default 1<<30.
 * The key goes with `-k`: the converter has no other way to take it (visible in the process
 * list; see docs/models.md).
 */
export function tltConverterArgs(i: ArgInputs, p: ArgPaths): string[] {
  const s = shapeArgs(i.manifest, i.maxBatch);
  const args = ['-k', p.key ?? KEY_PLACEHOLDER];
  if (i.payload === 'uff') args.push('-d', s.d);
  else args.push('-p', s.p);
  args.push('-o', s.o, '-e', p.engine, '-t', i.precision, '-m', String(i.maxBatch), '-w', String(i.workspaceBytes), '-i', s.i);
  if (i.precision === 'int8' && p.calibration) args.push('-c', p.calibration);
  args.push(p.model);
  return args;
}

/**
 * Plain .onnx (TAO 5) → trtexec (docs/reference/tao-specs.md §8). Workspace: `--memPoolSize=workspace:<MiB>`
 * from TensorRT 8.4 on, `--workspace=<MiB>` before (the older flag was deprecated in 8.4).
 */
export function trtexecArgs(i: ArgInputs, p: ArgPaths): string[] {
  const s = shapeArgs(i.manifest, i.maxBatch);
  const mib = Math.max(1, Math.floor(i.workspaceBytes / (1024 * 1024)));
  const args = [
    `--onnx=${p.model}`,
    `--saveEngine=${p.engine}`,
    `--minShapes=${s.minShapes}`,
    `--optShapes=${s.optShapes}`,
    `--maxShapes=${s.maxShapes}`,
    trtAtLeast(i.tensorrt, 8, 4) ? `--memPoolSize=workspace:${mib}` : `--workspace=${mib}`,
  ];
  if (i.precision === 'fp16') args.push('--fp16');
  if (i.precision === 'int8') {
    args.push('--int8');
    if (p.calibration) args.push(`--calib=${p.calibration}`);
  }
  return args;
}

/**
 * Which converter: UFF .etlt → tlt-converter (only it reads UFF); plain .onnx → trtexec; ONNX
 * .etlt → tlt-converter up to TensorRT 8.5, trtexec on the decrypted ONNX from 8.6 on, where
 * no tao-converter build exists for Jetson (docs/reference/tao-specs.md §8). Chosen by TensorRT version,
 * not by what is installed, so the cache key is stable.
 */
export function chooseTool(format: ModelManifest['format'], payload: Payload, tensorrt: string | null): ConverterTool {
  if (format === 'onnx') return 'trtexec';
  if (payload === 'uff') return 'tlt-converter';
  return tensorrt !== null && trtAtLeast(tensorrt, 8, 6) ? 'trtexec' : 'tlt-converter';
}

/** For trtexec `p.model` must be a plain ONNX file (decrypted first for an ONNX .etlt). */
export function converterArgs(i: ArgInputs, p: ArgPaths): ConvertArgs {
  return chooseTool(i.format, i.payload, i.tensorrt) === 'tlt-converter' ? { tool: 'tlt-converter', args: tltConverterArgs(i, p) } : { tool: 'trtexec', args: trtexecArgs(i, p) };
}

export interface CacheKeyInputs {
  readonly packageSha256: string;
  readonly tool: ConverterTool;
  /** Canonical argv (placeholders for key and paths). */
  readonly args: readonly string[];
  readonly tensorrt: string;
  readonly cudaArch: number | null;
}

/**
 * Engine cache key (issue #4 §5; docs/reference/tao-specs.md §8: engines are tied to the TensorRT build and
 * the GPU compute capability): sha256 over package, tool, canonical args, TensorRT, arch.
 */
export function engineCacheKey(k: CacheKeyInputs): string {
  const canonical = JSON.stringify({ v: 1, pkg: k.packageSha256, tool: k.tool, args: k.args, trt: k.tensorrt, arch: k.cudaArch });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

import type { BoardInfo } from '../core/contracts/board.js';
import { compareVersions } from './version.js';

/**
 * Pure TensorRT OSS build planning (DESIGN §5). Every branch-dependent choice is taken here
 * from jetson-platform.md §4 and unit-tested per branch; build.ts only executes the plan.
 */

/** A tree generation: major.minor of the TensorRT OSS tree (`main` counts as the newest). */
export interface TreeGeneration {
  readonly major: number;
  readonly minor: number;
}

/** `main` is newer than every release branch (jetson-platform.md §4.1: main = newest, 11.x line). */
export const MAIN_GENERATION: TreeGeneration = { major: 11, minor: 99 };

/** 7.1.3 → `release/7.1` (deepstream_tao_apps TRT-OSS/Jetson README, jetson-platform.md §4.1). */
export function branchForTensorrt(version: string): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? `release/${m[1]}.${m[2]}` : undefined;
}

/** `release/8.5` → {8,5}; `main` → MAIN_GENERATION; tags/SHAs → undefined. */
export function generationOfRef(ref: string): TreeGeneration | undefined {
  if (ref === 'main' || ref === 'master') return MAIN_GENERATION;
  const m = /^release\/(\d+)\.(\d+)/.exec(ref);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

const genAtLeast = (g: TreeGeneration, major: number, minor: number): boolean =>
  g.major > major || (g.major === major && g.minor >= minor);

/**
 * `cmake_minimum_required` per branch (jetson-platform.md §4.2): 3.13 for release/5.1 …
 * 10.16, 3.31 for release/11.x and main. Unknown refs (tags) use 3.13.
 */
export function minimumCmake(gen: TreeGeneration | undefined): string {
  return gen && genAtLeast(gen, 11, 0) ? '3.31' : '3.13';
}

/** Output dir variable: TRT_BIN_DIR up to release/7.0, TRT_OUT_DIR from 7.1 (§4.3; -DTRT_BIN_DIR is ignored on ≥ 7.1). */
export function outputVariable(gen: TreeGeneration): 'TRT_BIN_DIR' | 'TRT_OUT_DIR' {
  return genAtLeast(gen, 7, 1) ? 'TRT_OUT_DIR' : 'TRT_BIN_DIR';
}

/** release/11.0+/main dropped GPU_ARCHS → CMAKE_CUDA_ARCHITECTURES (§4.3). */
export function archVariable(gen: TreeGeneration): 'GPU_ARCHS' | 'CMAKE_CUDA_ARCHITECTURES' {
  return genAtLeast(gen, 11, 0) ? 'CMAKE_CUDA_ARCHITECTURES' : 'GPU_ARCHS';
}

/**
 * GPU arch list: `--gpu-archs` wins, else the board's arch. Accepts "53 62", "53,62" or
 * "53;62". Rejects typographic quotes and non-numbers (§4.7: `“61”`, empty GPU_ARCHS).
 */
export function parseGpuArchs(text: string): number[] | undefined {
  const parts = text.trim().split(/[\s,;]+/).filter(Boolean);
  if (parts.length === 0 || !parts.every((p) => /^\d{2,3}$/.test(p))) return undefined;
  return [...new Set(parts.map(Number))];
}

/**
 * Default make -j: the CPU count, capped so each job has ~1.5 GiB of available memory
 * (assumption, UNCONFIRMED per board: nvcc on the TensorRT plugin sources is the memory
 * peak; a 4 GB Nano with ~3 GiB free gets -j2). Never below 1.
 */
export const BYTES_PER_JOB = 1.5 * 1024 ** 3;
export function defaultJobs(cpuCount: number, memAvailableBytes: number): number {
  const byMem = Math.floor(memAvailableBytes / BYTES_PER_JOB);
  return Math.max(1, Math.min(cpuCount, byMem));
}

/** CUDA_VERSION value: major.minor of the detected CUDA (§4.3: pass the device's version). */
export function cudaMajorMinor(version: string | null | undefined): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  return m ? `${m[1]}.${m[2]}` : undefined;
}

export interface BuildPlanInput {
  readonly board: BoardInfo;
  /** Explicit --ref; otherwise derived from board.tensorrt. */
  readonly ref?: string;
  /** Generation read from the source tree's include/NvInferVersion.h (wins over the ref). */
  readonly treeGeneration?: TreeGeneration;
  /** Explicit --gpu-archs list. */
  readonly gpuArchs?: readonly number[];
  readonly jobs?: number;
  readonly cpuCount: number;
  readonly memAvailableBytes: number;
  readonly sourceDir: string;
  readonly buildDir: string;
  readonly outDir: string;
  /** TRT_LIB_DIR as a path the build host can read (the --root prefix already applied). */
  readonly trtLibDir: string;
  readonly cCompiler: string;
  readonly cudaCompiler: string;
  /** CUDA version when the board does not report one (from `nvcc --version`). */
  readonly cudaVersionFallback?: string;
}

export interface BuildPlan {
  readonly branch: string;
  readonly generation: TreeGeneration | undefined;
  readonly minimumCmake: string;
  readonly gpuArchs: readonly number[];
  readonly archVariable: 'GPU_ARCHS' | 'CMAKE_CUDA_ARCHITECTURES';
  readonly outputVariable: 'TRT_BIN_DIR' | 'TRT_OUT_DIR';
  readonly cudaVersion: string | undefined;
  /** Full cmake argv (after the program name). */
  readonly cmakeArgs: readonly string[];
  /** Full make argv (after the program name); make runs with cwd = the build dir. */
  readonly makeArgs: readonly string[];
  readonly jobs: number;
  /** Directories searched for the output, in order (§4.4: out/ then build/). */
  readonly searchDirs: readonly string[];
}

export type PlanProblem =
  | { readonly kind: 'no-branch'; readonly message: string }
  | { readonly kind: 'no-arch'; readonly message: string };

/** Branch only (needed before the source exists, for the cmake check). */
export function planBranch(board: BoardInfo, ref?: string): { branch: string } | PlanProblem {
  const branch = ref ?? board.trtOssBranch ?? (board.tensorrt ? branchForTensorrt(board.tensorrt) : undefined);
  if (!branch) {
    return { kind: 'no-branch', message: 'The installed TensorRT version is unknown, so the TensorRT OSS branch cannot be chosen.' };
  }
  return { branch };
}

export function planBuild(input: BuildPlanInput): BuildPlan | PlanProblem {
  const b = planBranch(input.board, input.ref);
  if ('kind' in b) return b;
  const generation = input.treeGeneration ?? generationOfRef(b.branch);
  const gpuArchs = input.gpuArchs && input.gpuArchs.length > 0 ? [...input.gpuArchs] : input.board.cudaArch ? [input.board.cudaArch] : [];
  if (gpuArchs.length === 0) {
    return { kind: 'no-arch', message: 'No GPU arch: the board was not detected as a Jetson and --gpu-archs was not given.' };
  }
  // Unknown generation (a tag or SHA without a readable header): assume the 7.1+ layout.
  const gen = generation ?? { major: 8, minor: 0 };
  const archVar = archVariable(gen);
  const outVar = outputVariable(gen);
  const cudaVersion = cudaMajorMinor(input.board.cuda) ?? cudaMajorMinor(input.cudaVersionFallback);
  const jobs = input.jobs && input.jobs > 0 ? input.jobs : defaultJobs(input.cpuCount, input.memAvailableBytes);
  // GPU_ARCHS is a space-separated list (separate_arguments); CMAKE_CUDA_ARCHITECTURES a ;-list.
  const archValue = archVar === 'GPU_ARCHS' ? gpuArchs.join(' ') : gpuArchs.join(';');
  const args = [
    '-S',
    input.sourceDir,
    '-B',
    input.buildDir,
    `-D${archVar}=${archValue}`,
    `-DTRT_LIB_DIR=${input.trtLibDir}`,
    `-D${outVar}=${input.outDir}`,
    ...(input.board.isJetson ? ['-DTRT_PLATFORM_ID=aarch64'] : []),
    ...(cudaVersion ? [`-DCUDA_VERSION=${cudaVersion}`] : []),
    `-DCMAKE_C_COMPILER=${input.cCompiler}`,
    `-DCMAKE_CUDA_COMPILER=${input.cudaCompiler}`,
    '-DBUILD_PARSERS=OFF',
    '-DBUILD_SAMPLES=OFF',
  ];
  return {
    branch: b.branch,
    generation,
    minimumCmake: minimumCmake(generation ?? generationOfRef(b.branch)),
    gpuArchs,
    archVariable: archVar,
    outputVariable: outVar,
    cudaVersion,
    cmakeArgs: args,
    makeArgs: ['nvinfer_plugin', `-j${jobs}`],
    jobs,
    // On ≥ 7.1 a stray TRT_BIN_DIR is ignored and output lands in build/ (§4.7), so search both.
    searchDirs: [input.outDir, input.buildDir],
  };
}

/** Is `found` at least `needed`? */
export function cmakeIsNewEnough(found: string, needed: string): boolean {
  return compareVersions(found, needed) >= 0;
}

/** Percent from make/cmake progress lines: `[ 45%] Building C object …`. */
export function progressPercent(line: string): number | undefined {
  const m = /^\[\s*(\d{1,3})%\]/.exec(line);
  return m ? Number(m[1]) : undefined;
}

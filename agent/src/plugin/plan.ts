import type { BoardInfo } from '../core/contracts/board.js';
import { BASE_DEFINES, TAO_PLUGIN_DIRS, configureTree, readTreeShape, type TaoPluginDir, type TreeFiles, type TreeShape } from './tree-shape.js';
import { compareVersions } from './version.js';

/**
 * Pure TensorRT OSS build planning (docs/plugin.md "`plugin build`"). The branch is chosen from the board's
 * TensorRT version; every tree-dependent choice (make target, -D variables, cmake minimum)
 * is then read from the tree's own CMake files (tree-shape.ts,
 * docs/reference/tensorrt-oss-trees.md). build.ts only executes the plan.
 */

/** A tree generation: major.minor of the TensorRT OSS tree (`main` counts as the newest). */
export interface TreeGeneration {
  readonly major: number;
  readonly minor: number;
}

/** `main` is newer than every release branch (docs/reference/tensorrt-oss-trees.md: main is the newest, 11.x line). */
export const MAIN_GENERATION: TreeGeneration = { major: 11, minor: 99 };

/** 7.1.3 → `release/7.1` (NVIDIA-AI-IOT/deepstream_tao_apps TRT-OSS/Jetson/README.md). */
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
 * The cmake a branch is expected to need, checked before the source is fetched (tools
 * first): 3.13 for release/5.1 … 10.16, 3.31 for release/11.x and main; unknown refs (tags)
 * use 3.13. Once the tree is there its own cmake_minimum_required decides (tree-shape.ts).
 */
export function minimumCmake(gen: TreeGeneration | undefined): string {
  return gen && genAtLeast(gen, 11, 0) ? '3.31' : '3.13';
}

/**
 * GPU arch list: `--gpu-archs` wins, else the board's arch. Accepts "53 62", "53,62" or
 * "53;62". Rejects typographic quotes and non-numbers (docs/reference/tensorrt-oss-plugin.md "Known failures": `“61”`, empty GPU_ARCHS).
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

/** CUDA_VERSION value: major.minor of the detected CUDA (docs/reference/tensorrt-oss-plugin.md "Configure values": pass the device's version). */
export function cudaMajorMinor(version: string | null | undefined): string | undefined {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  return m ? `${m[1]}.${m[2]}` : undefined;
}

export interface BuildPlanInput {
  readonly board: BoardInfo;
  /** Explicit --ref; otherwise derived from board.tensorrt. */
  readonly ref?: string;
  /** The source tree's CMake files: every tree-dependent choice is read from them. */
  readonly tree: TreeFiles;
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
  /** `nvcc --version` of cudaCompiler: CUDA_VERSION when the board reports none, and checked against it. */
  readonly nvccVersion?: string;
}

export interface BuildPlan {
  readonly branch: string;
  readonly minimumCmake: string;
  readonly gpuArchs: readonly number[];
  readonly archVariable: TreeShape['archVariable'];
  readonly outputVariable: TreeShape['outputVariable'];
  /** The make target that links libnvinfer_plugin (nvinfer_plugin, or tensorrt_plugins on release/11.1+/main). */
  readonly pluginTarget: string;
  /** plugin/<dir> source directories this tree compiles. */
  readonly pluginDirs: readonly string[];
  /** TAO plugin source directories this tree lacks (release/11.0+: batchTilePlugin, batchedNMSPlugin). */
  readonly missingTaoPlugins: readonly TaoPluginDir[];
  readonly cudaVersion: string | undefined;
  /** Full cmake argv (after the program name). */
  readonly cmakeArgs: readonly string[];
  /** Full make argv (after the program name); make runs with cwd = the build dir. */
  readonly makeArgs: readonly string[];
  readonly jobs: number;
  /** Directories searched for the output, in order (out/ then build/: TRT_BIN_DIR is ignored on 7.1+). */
  readonly searchDirs: readonly string[];
  /** What the operator must know before trusting the build (CUDA mismatch, missing TAO plugins). */
  readonly warnings: readonly string[];
  /** -D variables the plan would pass but this tree never reads (left out, so cmake does not warn). */
  readonly unusedDefines: readonly string[];
}

export type PlanProblem =
  | { readonly kind: 'no-branch'; readonly message: string }
  | { readonly kind: 'no-arch'; readonly message: string }
  | { readonly kind: 'tree-unreadable'; readonly message: string };

/** Branch only (needed before the source exists, for the cmake check). */
export function planBranch(board: BoardInfo, ref?: string): { branch: string } | PlanProblem {
  const branch = ref ?? board.trtOssBranch ?? (board.tensorrt ? branchForTensorrt(board.tensorrt) : undefined);
  if (!branch) {
    return { kind: 'no-branch', message: 'The installed TensorRT version is unknown, so the TensorRT OSS branch cannot be chosen.' };
  }
  return { branch };
}

/** The plugin creators a tree without these TAO plugin directories cannot register. */
export function creatorsOf(dirs: readonly TaoPluginDir[]): string[] {
  return dirs.flatMap((d) => [...TAO_PLUGIN_DIRS[d]]);
}

export function planBuild(input: BuildPlanInput): BuildPlan | PlanProblem {
  const b = planBranch(input.board, input.ref);
  if ('kind' in b) return b;
  const gpuArchs = input.gpuArchs && input.gpuArchs.length > 0 ? [...input.gpuArchs] : input.board.cudaArch ? [input.board.cudaArch] : [];
  if (gpuArchs.length === 0) {
    return { kind: 'no-arch', message: 'No GPU arch: the board was not detected as a Jetson and --gpu-archs was not given.' };
  }
  const shape = readTreeShape(input.tree);
  if ('kind' in shape) return { kind: 'tree-unreadable', message: `${input.sourceDir} is not a TensorRT OSS tree this agent can read: ${shape.message}.` };
  const boardCuda = cudaMajorMinor(input.board.cuda);
  const nvccCuda = cudaMajorMinor(input.nvccVersion);
  const cudaVersion = boardCuda ?? nvccCuda;
  const jobs = input.jobs && input.jobs > 0 ? input.jobs : defaultJobs(input.cpuCount, input.memAvailableBytes);
  // GPU_ARCHS is a space-separated list (separate_arguments); CMAKE_CUDA_ARCHITECTURES a ;-list.
  const archValue = shape.archVariable === 'GPU_ARCHS' ? gpuArchs.join(' ') : gpuArchs.join(';');
  // Every -D the plan may pass, in argv order; the tree's configure decides which it reads.
  const candidates: [string, string][] = [
    [shape.archVariable, archValue],
    ['TRT_LIB_DIR', input.trtLibDir],
    ...(shape.outputVariable ? ([[shape.outputVariable, input.outDir]] as [string, string][]) : []),
    ...(input.board.isJetson ? ([['TRT_PLATFORM_ID', 'aarch64']] as [string, string][]) : []),
    ...(cudaVersion ? ([['CUDA_VERSION', cudaVersion]] as [string, string][]) : []),
    ['CMAKE_C_COMPILER', input.cCompiler],
    ['CMAKE_CUDA_COMPILER', input.cudaCompiler],
    ...[...BASE_DEFINES],
  ];
  const configured = configureTree(input.tree, new Map(candidates));
  // cmake itself consults CMAKE_C_COMPILER / CMAKE_CUDA_COMPILER (a real configure of
  // release/8.6 and 11.1, whose projects enable only CXX and CUDA, does not call them unused).
  const read = (name: string): boolean => name === shape.archVariable || /^CMAKE_\w+_COMPILER$/.test(name) || configured.used.has(name);
  const kept = candidates.filter(([k]) => read(k));
  const unusedDefines = candidates.filter(([k]) => !read(k)).map(([k]) => k);
  const warnings: string[] = [];
  if (boardCuda && nvccCuda && boardCuda !== nvccCuda) {
    warnings.push(
      `The board reports CUDA ${boardCuda} but ${input.cudaCompiler} is CUDA ${nvccCuda}: the plugin is compiled and linked with CUDA ${nvccCuda}` +
        `${kept.some(([k]) => k === 'CUDA_VERSION') ? ` while -DCUDA_VERSION=${boardCuda} is passed` : ''}. ` +
        'Pass --cuda-compiler with the nvcc of the CUDA the board runs (JetPack: /usr/local/cuda/bin/nvcc), or check that the board really runs that CUDA.',
    );
  }
  if (shape.missingTaoPlugins.some((d) => d !== 'resizeNearestPlugin')) {
    const missing = shape.missingTaoPlugins.filter((d) => d !== 'resizeNearestPlugin');
    warnings.push(
      `This tree has no ${missing.map((d) => `plugin/${d}`).join(' or ')} sources (removed in TensorRT OSS 11.0): the library will not register ${creatorsOf(missing).join(', ')}. ` +
        'A TAO model that needs them will not run with it: re-export the model with EfficientNMS (EfficientNMS_TRT), or stay on TensorRT 10 (release/10.x).',
    );
  }
  return {
    branch: b.branch,
    minimumCmake: shape.minimumCmake,
    gpuArchs,
    archVariable: shape.archVariable,
    outputVariable: shape.outputVariable,
    pluginTarget: shape.pluginTarget,
    pluginDirs: shape.pluginDirs,
    missingTaoPlugins: shape.missingTaoPlugins,
    cudaVersion: kept.some(([k]) => k === 'CUDA_VERSION') ? cudaVersion : undefined,
    cmakeArgs: ['-S', input.sourceDir, '-B', input.buildDir, ...kept.map(([k, v]) => `-D${k}=${v}`)],
    makeArgs: [shape.pluginTarget, `-j${jobs}`],
    jobs,
    // On ≥ 7.1 a stray TRT_BIN_DIR is ignored and output lands in build/, so search both.
    searchDirs: [input.outDir, input.buildDir],
    warnings,
    unusedDefines,
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

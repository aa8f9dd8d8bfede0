import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentError } from '../core/errors.js';
import { copyFileAtomic, fsp, mkdirp, removePath, sha256File } from '../platform/fs.js';
import { hostResources } from '../platform/library.js';
import { hashTree } from '../platform/tree-hash.js';
import { buildDeadline, buildStepRunner } from './build-steps.js';
import type { PluginContext } from './context.js';
import { defaultJobs } from './plan.js';
import { readRunnerArtifact, recordRunnerArtifact, runnerCacheKey, runnerStatePaths, type RunnerArtifact } from './runner-artifact.js';
import { planRunnerBuild } from './runner-plan.js';
import { locateTensorrt } from './runner-tensorrt.js';
import { findCmake, findCudaCompiler, findCxxCompiler } from './tools.js';

/** The runner source shipped in the npm package (agent/dist/plugin → agent/native/trt-runner). */
export const PACKAGED_RUNNER_SOURCE = fileURLToPath(new URL('../../native/trt-runner/', import.meta.url));

/** agent/native/trt-runner/CMakeLists.txt: cmake_minimum_required(VERSION 3.13). */
const RUNNER_MIN_CMAKE = '3.13';

export interface RunnerBuildRequest {
  /** Source tree (default: the packaged agent/native/trt-runner). */
  readonly source?: string;
  /** Rebuild even when an intact build with identical inputs exists. */
  readonly force?: boolean;
  readonly cmakePath: string;
  readonly cudaCompiler: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (percent: number | null, line: string) => void;
}

export interface RunnerBuildResult {
  readonly artifact: RunnerArtifact;
  readonly cached: boolean;
}

/**
 * `jetson-agent runner build` (issue #5): TensorRT dev files are located first (off-Jetson this
 * fails before anything is written), then cmake/nvcc/g++ are checked, then the plugin build's
 * cmake → make → record flow runs on agent/native/trt-runner. The recorded artifact becomes the
 * runner the daemon's tensorrt backend spawns (currentRunner); a failed build leaves the
 * previous one in place.
 */
export async function buildRunner(ctx: PluginContext, req: RunnerBuildRequest): Promise<RunnerBuildResult> {
  const started = Date.now();
  const remaining = buildDeadline('runner build', req.timeoutMs);
  ctx.onStep?.('looking for TensorRT headers and libraries');
  const trt = await locateTensorrt(ctx.paths, ctx.board.trtLibDir);
  ctx.onStep?.(`checking cmake (TensorRT ${trt.version})`);
  const cmake = await findCmake(req.cmakePath, RUNNER_MIN_CMAKE);
  ctx.onStep?.('checking the CUDA toolkit');
  const nvcc = await findCudaCompiler(req.cudaCompiler, ctx.paths);
  const cxx = await findCxxCompiler();
  // FindCUDA wants the toolkit root: <root>/bin/nvcc → <root>.
  const cudaRoot = path.dirname(path.dirname(await fsp.realpath(nvcc.path)));
  const sourceDir = path.resolve(req.source ?? PACKAGED_RUNNER_SOURCE);
  const identity = `dir:${await hashTree(sourceDir, ['build'])}`;

  const state = runnerStatePaths(ctx.state.stateDir);
  const key = runnerCacheKey({
    sourceIdentity: identity,
    tensorrt: trt.version,
    includeDir: trt.includeDir,
    nvinfer: trt.nvinfer,
    nvinferPlugin: trt.nvinferPlugin,
    cudaRoot,
    cudaVersion: nvcc.version,
    cxx,
    cmakeVersion: cmake.version,
  });
  const dir = path.join(state.dir, key.slice(0, 16));
  // Same -j rule as the plugin build (one translation unit here, so it rarely matters).
  const res = hostResources();
  const plan = planRunnerBuild({ tensorrt: trt, cudaRoot, cxxCompiler: cxx, sourceDir, buildDir: path.join(dir, 'build'), jobs: defaultJobs(res.cpuCount, res.memAvailableBytes) });
  if ('kind' in plan) {
    throw new AgentError('RUNNER_TENSORRT_UNSUPPORTED', plan.message, { hint: 'Upgrade JetPack (TensorRT 7.1 or newer), or serve ONNX models with ONNX Runtime.' });
  }
  if (!req.force) {
    const cached = await readRunnerArtifact(dir);
    if (cached) {
      ctx.onStep?.(`cache hit: runner ${cached.id} has identical inputs; no compiler runs`);
      await recordRunnerArtifact(state, dir, cached);
      return { artifact: cached, cached: true };
    }
  }

  // Only the cmake build dir is cleared: with --force an earlier binary and artifact.json of
  // this key stay intact until the new binary replaces them atomically.
  const buildDir = path.join(dir, 'build');
  await removePath(buildDir);
  await mkdirp(buildDir, 0o750);
  const logFile = path.join(dir, 'build.log');
  await fsp.writeFile(logFile, `# jetson-agent runner build ${key.slice(0, 16)} (TensorRT ${trt.version}, ${plan.api} API, source ${sourceDir})\n`);
  const step = buildStepRunner({
    logFile,
    remaining,
    onStep: ctx.onStep,
    onProgress: req.onProgress,
    signal: req.signal,
    failCode: 'RUNNER_BUILD_FAILED',
    failHint: 'The previously built runner (if any) is still the one in use.',
  });
  await step('configuring (cmake)', cmake.path, plan.cmakeArgs);
  await step(`building trt-runner (make ${plan.makeArgs.join(' ')})`, 'make', plan.makeArgs, buildDir);

  const file = path.join(dir, 'trt-runner');
  try {
    await copyFileAtomic(plan.output, file, { mode: 0o755 });
  } catch (err) {
    throw new AgentError('RUNNER_BUILD_FAILED', `make finished but ${plan.output} could not be copied: ${(err as Error).message}.`, { hint: `See ${logFile}.`, cause: err });
  }
  const rec: RunnerArtifact = {
    id: key.slice(0, 16),
    cacheKey: key,
    file,
    sha256: await sha256File(file),
    tensorrt: trt.version,
    api: plan.api,
    tensorrtInclude: ctx.paths.fromHost(trt.includeDir),
    nvinfer: ctx.paths.fromHost(trt.nvinfer),
    nvinferPlugin: ctx.paths.fromHost(trt.nvinferPlugin),
    cudaRoot: ctx.paths.fromHost(cudaRoot),
    cudaVersion: nvcc.version,
    source: { location: sourceDir, identity },
    cmake,
    cxxCompiler: cxx,
    cmakeArgs: plan.cmakeArgs,
    makeArgs: plan.makeArgs,
    durationMs: Date.now() - started,
    builtAt: ctx.now().toISOString(),
    buildLog: logFile,
  };
  await recordRunnerArtifact(state, dir, rec);
  return { artifact: rec, cached: false };
}

import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { fsp, listDir, lstatMaybe, mkdirp, readBytes, removePath, sha256File } from '../platform/fs.js';
import { hostResources } from '../platform/library.js';
import { buildDeadline, buildStepRunner } from './build-steps.js';
import { buildDirFor, cacheKey, readArtifact, writeArtifact, type ArtifactRecord } from './artifact.js';
import type { PluginContext } from './context.js';
import { machineName, parseElf } from './elf.js';
import { creatorsOf, generationOfRef, minimumCmake, planBranch, planBuild, type PlanProblem } from './plan.js';
import { DEFAULT_TRT_LIB_DIR } from './resolve.js';
import { resolveSource } from './source.js';
import { findCCompiler, findCmake, findCudaCompiler } from './tools.js';

export interface BuildRequest {
  readonly source?: string;
  readonly git?: string;
  readonly ref?: string;
  readonly gpuArchs?: readonly number[];
  readonly jobs?: number;
  readonly cmakePath: string;
  readonly cudaCompiler: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Build progress: percent (from make's `[ 45%]`) or null, and the output line. */
  readonly onProgress?: (percent: number | null, line: string) => void;
}

export interface BuildResult {
  readonly artifact: ArtifactRecord;
  readonly cached: boolean;
}

const OUTPUT_RE = /^libnvinfer_plugin\.so\.\d+\.\d+\.\d+(?:\.\d+)*$/;

/**
 * TensorRT OSS `nvinfer_plugin` build (docs/plugin.md "`plugin build`"): tools checked first, then the source,
 * then cmake + `make nvinfer_plugin -jN` per the pure plan, output found in out/ or build/,
 * artifact recorded; identical inputs are a cache hit that runs no compiler.
 */
export async function buildPlugin(ctx: PluginContext, req: BuildRequest): Promise<BuildResult> {
  const started = Date.now();
  const remaining = buildDeadline('plugin build', req.timeoutMs);
  const b = planBranch(ctx.board, req.ref);
  if ('kind' in b) throw new AgentError('PLUGIN_BRANCH_UNKNOWN', b.message, { hint: 'Pass --ref release/X.Y matching the installed TensorRT.' });
  ctx.onStep?.(`checking cmake for ${b.branch}`);
  const cmake = await findCmake(req.cmakePath, minimumCmake(generationOfRef(b.branch)));
  ctx.onStep?.('checking the CUDA compiler');
  const nvcc = await findCudaCompiler(req.cudaCompiler, ctx.paths);
  const cc = await findCCompiler();

  await mkdirp(ctx.state.buildsDir, 0o750);
  ctx.onStep?.(req.git ? `cloning ${req.git} at ${b.branch}` : `using source ${req.source ?? ''}`);
  const src = await resolveSource(ctx.state, {
    ...(req.source ? { source: req.source } : {}),
    ...(req.git ? { git: req.git } : {}),
    ref: b.branch,
    timeoutMs: remaining(),
    ...(req.signal ? { signal: req.signal } : {}),
  });
  const hv = src.headerVersion;

  const trtLibDir = ctx.paths.toHost(ctx.board.trtLibDir ?? DEFAULT_TRT_LIB_DIR);
  const res = hostResources();
  const planInput = {
    board: ctx.board,
    ref: b.branch,
    tree: src.tree,
    ...(req.gpuArchs ? { gpuArchs: req.gpuArchs } : {}),
    ...(req.jobs ? { jobs: req.jobs } : {}),
    cpuCount: res.cpuCount,
    memAvailableBytes: res.memAvailableBytes,
    sourceDir: src.dir,
    trtLibDir,
    cCompiler: cc,
    cudaCompiler: nvcc.path,
    nvccVersion: nvcc.version,
  };
  const probe = planBuild({ ...planInput, buildDir: '', outDir: '' });
  if ('kind' in probe) throw planError(probe);
  // The tree's own cmake_minimum_required decides (a tag or an unexpected branch may need 3.31).
  await findCmake(req.cmakePath, probe.minimumCmake);
  for (const w of probe.warnings) ctx.onStep?.(`warning: ${w}`);
  const key = cacheKey({
    sourceIdentity: src.identity,
    branch: b.branch,
    gpuArchs: probe.gpuArchs,
    tensorrt: ctx.board.tensorrt,
    cudaVersion: probe.cudaVersion ?? null,
    trtLibDir,
    platformAarch64: ctx.board.isJetson,
    cCompiler: cc,
    cudaCompiler: nvcc,
    cmakeVersion: cmake.version,
  });
  const dir = buildDirFor(ctx.state, key);
  const cached = await readArtifact(dir);
  if (cached) {
    ctx.onStep?.(`cache hit: build ${cached.id} has identical inputs; no compiler runs`);
    await writeArtifact(ctx.state, dir, cached);
    return { artifact: cached, cached: true };
  }

  const buildDir = path.join(dir, 'build');
  const outDir = path.join(dir, 'out');
  const plan = planBuild({ ...planInput, buildDir, outDir });
  if ('kind' in plan) throw new AgentError('INTERNAL', plan.message);
  await removePath(buildDir);
  await removePath(outDir);
  await mkdirp(buildDir);
  await mkdirp(outDir);
  const logFile = path.join(dir, 'build.log');
  await fsp.writeFile(logFile, `# jetson-agent plugin build ${key.slice(0, 16)} (${b.branch}, source ${src.location}${src.commit ? ` @ ${src.commit}` : ''})\n`);
  const step = buildStepRunner({ logFile, remaining, onStep: ctx.onStep, onProgress: req.onProgress, signal: req.signal, failCode: 'PLUGIN_BUILD_FAILED' });
  await step('configuring (cmake)', cmake.path, plan.cmakeArgs);
  await step(`building ${plan.pluginTarget} (make -j${plan.jobs})`, 'make', plan.makeArgs, buildDir);

  const built = await findOutput(plan.searchDirs);
  if (!built) {
    throw new AgentError('PLUGIN_OUTPUT_NOT_FOUND', `make finished but no libnvinfer_plugin.so.<x.y.z> is in ${plan.searchDirs.join(' or ')}.`, {
      hint: `See ${logFile}; on release/7.1+ trees TRT_OUT_DIR (not TRT_BIN_DIR) sets the output dir.`,
    });
  }
  const name = path.basename(built);
  const file = path.join(dir, name);
  await fsp.copyFile(built, file);
  const elf = parseElf(await readBytes(file));
  const rec: ArtifactRecord = {
    id: key.slice(0, 16),
    cacheKey: key,
    file,
    name,
    sha256: await sha256File(file),
    soname: elf.soname,
    branch: b.branch,
    commit: src.commit,
    gpuArchs: plan.gpuArchs,
    machine: machineName(elf.machine),
    tensorrt: ctx.board.tensorrt,
    treeVersion: hv ? `${hv.major}.${hv.minor}.${hv.patch}` : null,
    cudaVersion: plan.cudaVersion ?? null,
    source: { kind: src.kind, location: src.location },
    cmake,
    cmakeArgs: plan.cmakeArgs,
    makeArgs: plan.makeArgs,
    pluginTarget: plan.pluginTarget,
    missingCreators: creatorsOf(plan.missingTaoPlugins),
    warnings: plan.warnings,
    durationMs: Date.now() - started,
    builtAt: ctx.now().toISOString(),
    buildLog: logFile,
  };
  await writeArtifact(ctx.state, dir, rec);
  return { artifact: rec, cached: false };
}

function planError(p: PlanProblem): AgentError {
  if (p.kind === 'no-arch') return new AgentError('PLUGIN_ARCH_UNKNOWN', p.message, { hint: 'Pass --gpu-archs with the board arch (53 Nano/TX1, 62 TX2, 72 Xavier, 87 Orin, 110 Thor).' });
  if (p.kind === 'tree-unreadable') {
    return new AgentError('PLUGIN_TREE_UNREADABLE', p.message, {
      hint: 'Point --source (or --git/--ref) at an NVIDIA/TensorRT release tree (release/7.1 … release/11.x, main) with its CMakeLists.txt and plugin/CMakeLists.txt intact.',
    });
  }
  return new AgentError('PLUGIN_BRANCH_UNKNOWN', p.message, { hint: 'Pass --ref.' });
}

/** First real file named libnvinfer_plugin.so.<x.y.z> in the given dirs (out/ first, then build/). */
async function findOutput(dirs: readonly string[]): Promise<string | undefined> {
  for (const d of dirs) {
    const names = (await listDir(d)).filter((n) => OUTPUT_RE.test(n)).sort((a, b) => b.length - a.length);
    for (const n of names) if ((await lstatMaybe(path.join(d, n)))?.isFile()) return path.join(d, n);
  }
  return undefined;
}

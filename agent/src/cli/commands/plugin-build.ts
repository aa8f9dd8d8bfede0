import path from 'node:path';
import { UsageError } from '../../core/errors.js';
import { createPluginContext } from '../../compose/plugin-context.js';
import { buildPlugin } from '../../plugin/build.js';
import { parseGpuArchs } from '../../plugin/plan.js';
import type { CommandSpec } from '../types.js';
import { optPositiveInt, optString, progressPrinter, stepPrinter, BUILD_TOOL_OPTIONS, buildToolRequest } from './plugin-common.js';

export const pluginBuildCommand: CommandSpec = {
  path: ['plugin', 'build'],
  summary: 'Build TensorRT OSS libnvinfer_plugin for this board (branch and GPU arch from detection, target and flags from the tree).',
  description:
    'Checks cmake (≥ 3.13; ≥ 3.31 for 11.x/main) and nvcc first, then takes the source from --source (tree or .tar.gz, for offline boards) or clones --git (default plugin.gitUrl) at the branch matching the installed TensorRT. ' +
    "The tree's own CMake files then decide the make target (nvinfer_plugin, or tensorrt_plugins on release/11.1 and main), the cmake minimum and which of GPU_ARCHS/CMAKE_CUDA_ARCHITECTURES, TRT_LIB_DIR, TRT_OUT_DIR/TRT_BIN_DIR, TRT_PLATFORM_ID, CUDA_VERSION it reads; " +
    'compilers and BUILD_PARSERS/SAMPLES=OFF are always passed. It warns when the tree lacks the TAO plugins (release/11.0+) or the nvcc differs from the board CUDA, runs make <target> -jN and records the artifact in state/builds/<id>/. Identical inputs are a cache hit.',
  options: {
    source: { type: 'string', arg: 'DIR|FILE', description: 'Unpacked TensorRT OSS tree or a .tar.gz of one.' },
    git: { type: 'string', arg: 'URL', description: 'Repository to clone (default plugin.gitUrl).' },
    ref: { type: 'string', arg: 'BRANCH', description: 'Branch to build (default: from the TensorRT version, e.g. release/7.1).' },
    'gpu-archs': { type: 'string', arg: 'LIST', description: 'GPU_ARCHS override, e.g. "53" or "53 62 72".' },
    jobs: { type: 'string', arg: 'N', description: 'make -j (default plugin.jobs, 0 = CPUs capped by memory).' },
    ...BUILD_TOOL_OPTIONS,
  },
  examples: [
    'jetson-agent plugin build',
    'jetson-agent plugin build --source /opt/TensorRT-release-7.1.tar.gz',
    'jetson-agent plugin build --ref release/8.2 --gpu-archs 72 --jobs 4',
  ],
  async run(ctx) {
    const env = await ctx.agent();
    const source = optString(ctx, 'source');
    const git = optString(ctx, 'git');
    if (source && git) throw new UsageError('Pass either --source or --git, not both.');
    const archText = optString(ctx, 'gpu-archs');
    const gpuArchs = archText === undefined ? undefined : parseGpuArchs(archText);
    if (archText !== undefined && !gpuArchs) throw new UsageError(`--gpu-archs must be SM numbers like "53" or "53 62 72" (plain ASCII, no quotes inside), got "${archText}".`);
    const jobs = optPositiveInt(ctx, 'jobs') ?? (env.config.plugin.jobs > 0 ? env.config.plugin.jobs : undefined);
    const pctx = await createPluginContext(env, stepPrinter(ctx, 'plugin build'));
    const progress = progressPrinter(ctx);
    const ref = optString(ctx, 'ref');
    try {
      const r = await buildPlugin(pctx, {
        ...(source ? { source: path.resolve(source) } : { git: git ?? env.config.plugin.gitUrl }),
        ...(ref ? { ref } : {}),
        ...(gpuArchs ? { gpuArchs } : {}),
        ...(jobs ? { jobs } : {}),
        ...buildToolRequest(ctx, env, progress.onProgress),
      });
      progress.done();
      ctx.out.result({ cached: r.cached, artifact: r.artifact });
      const a = r.artifact;
      ctx.out.print(
        [
          `${r.cached ? 'cache hit' : 'built'}: ${a.file}`,
          `  sha256   ${a.sha256}`,
          `  branch   ${a.branch}${a.commit ? ` @ ${a.commit}` : ''}`,
          `  archs    ${a.gpuArchs.join(' ')} (${a.machine})`,
          `  soname   ${a.soname ?? '(none)'}`,
          `  target   ${a.pluginTarget ?? 'nvinfer_plugin'}`,
          `  log      ${a.buildLog}`,
          ...(a.warnings ?? []).map((w) => `warning: ${w}`),
          `install it with: ${ctx.program} plugin install --last-build`,
        ].join('\n'),
      );
    } finally {
      progress.done();
    }
  },
};

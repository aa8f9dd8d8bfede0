import path from 'node:path';
import { createPluginContext } from '../../compose/plugin-context.js';
import { buildRunner } from '../../plugin/runner-build.js';
import type { CommandSpec } from '../types.js';
import { optString, progressPrinter, stepPrinter, BUILD_TOOL_OPTIONS, buildToolRequest } from './plugin-common.js';

export const runnerBuildCommand: CommandSpec = {
  path: ['runner', 'build'],
  summary: 'Build trt-runner (agent/native/trt-runner) against this board\'s TensorRT; the daemon then serves TensorRT engines with it.',
  description:
    'Looks for the TensorRT headers (NvInfer.h, NvInferPlugin.h, NvInferVersion.h under /usr/include/<triplet>) and libnvinfer/libnvinfer_plugin (in the detected TensorRT library dir), checks cmake ≥ 3.13, nvcc and g++, configures agent/native/trt-runner into state/builds/trt-runner/<id>/build with those exact paths, runs make and records the binary with its TensorRT version and sha256. The daemon\'s tensorrt backend uses the recorded runner when inference.trtRunner is empty. Identical inputs are a cache hit; --force rebuilds. Without TensorRT it fails with RUNNER_TENSORRT_MISSING and writes nothing.',
  options: {
    source: { type: 'string', arg: 'DIR', description: 'Runner source tree (default: the packaged agent/native/trt-runner).' },
    force: { type: 'boolean', description: 'Rebuild even when an intact build with identical inputs exists.' },
    ...BUILD_TOOL_OPTIONS,
  },
  examples: ['jetson-agent runner build', 'jetson-agent runner build --force --json'],
  async run(ctx) {
    const env = await ctx.agent();
    const source = optString(ctx, 'source');
    const pctx = await createPluginContext(env, stepPrinter(ctx, 'runner build'));
    const progress = progressPrinter(ctx, 'runner build');
    try {
      const r = await buildRunner(pctx, {
        ...(source ? { source: path.resolve(source) } : {}),
        force: ctx.options.force === true,
        ...buildToolRequest(ctx, env, progress.onProgress),
      });
      progress.done();
      ctx.out.result({ cached: r.cached, artifact: r.artifact });
      const a = r.artifact;
      const configured = env.config.inference.trtRunner;
      ctx.out.print(
        [
          `${r.cached ? 'cache hit' : 'built'}: ${a.file}`,
          `  sha256    ${a.sha256}`,
          `  tensorrt  ${a.tensorrt} (${a.api} API; ${a.tensorrtInclude}, ${a.nvinfer})`,
          `  cuda      ${a.cudaVersion} (${a.cudaRoot})`,
          `  log       ${a.buildLog}`,
          configured
            ? `note: inference.trtRunner is set (${configured}); the daemon uses that, not this build, until you clear it`
            : 'the daemon uses this runner for TensorRT models (inference.trtRunner is empty)',
        ].join('\n'),
      );
    } finally {
      progress.done();
    }
  },
};

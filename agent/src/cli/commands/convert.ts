import path from 'node:path';
import { UsageError } from '../../core/errors.js';
import { detectBoard } from '../../board/detect.js';
import { convertPackage } from '../../convert/run.js';
import { listEngines } from '../../convert/cache.js';
import { convertDeps } from '../../compose/model-flow.js';
import { addPackage, findPackage } from '../../models/store.js';
import { statMaybe } from '../../platform/fs.js';
import type { Precision } from '../../convert/args.js';
import type { CommandSpec } from '../types.js';
import { optInt, optString } from './opts.js';
import { ProgressLine } from '../progress.js';

const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'int8'];

export const convertCommand: CommandSpec = {
  path: ['convert'],
  summary: 'Convert a model package to a TensorRT engine (Jetson) or an ONNX Runtime model (elsewhere).',
  description:
    'On a Jetson: .etlt → tao-converter/tlt-converter, .onnx → trtexec, arguments derived from model.json; the key is checked before the converter runs. Engines are cached under <state>/engines/<key>/ by (package, args, TensorRT, CUDA arch). Off-Jetson: ONNX payloads become ONNX Runtime models; UFF payloads are refused (UFF_NEEDS_TENSORRT). --dry-run prints the converter and arguments with the key as ***.',
  options: {
    package: { type: 'string', arg: 'PKG|NAME@VERSION', description: 'Package file (taken into the store first) or stored NAME@VERSION / sha256.' },
    precision: { type: 'string', arg: 'P', description: 'Override model.json precision: fp32 | fp16 | int8.' },
    'max-batch': { type: 'string', arg: 'N', description: 'Override model.json maxBatch.' },
    'dry-run': { type: 'boolean', description: 'Print {converter, args, engine} and do nothing.' },
  },
  examples: ['jetson-agent convert --package yolov3-kitti@1.0.0', 'jetson-agent convert --package yolo-1.0.0.tar.gz --precision fp16 --dry-run --json'],
  async run(ctx) {
    const ref = optString(ctx, 'package');
    if (!ref) throw new UsageError('--package is required.');
    const precision = optString(ctx, 'precision');
    if (precision !== undefined && !PRECISIONS.includes(precision as Precision)) throw new UsageError(`--precision "${precision}" is not one of ${PRECISIONS.join(', ')}.`);
    const maxBatch = optInt(ctx, 'max-batch', 1);
    const env = await ctx.agent();
    let found;
    if ((await statMaybe(ref))?.isFile()) {
      const { pkg } = await addPackage({ stateDir: env.stateDir, file: path.resolve(ref), maxBytes: env.config.models.maxPackageBytes, now: () => new Date() });
      found = await findPackage(env.stateDir, pkg.sha256);
    } else {
      found = await findPackage(env.stateDir, ref);
    }
    const board = await detectBoard(env.paths, { env: ctx.env });
    const name = `${found.pkg.name}@${found.pkg.version}`;
    const dryRun = ctx.options['dry-run'] === true;
    // The ETA is the last engine build on this board (same TensorRT and arch): conversion
    // prints no measure of its own, and one build is the best predictor of the next.
    const last = (await listEngines(env.stateDir, board)).filter((e) => e.status === 'ready' && e.durationMs > 0).at(-1);
    const progress = dryRun ? undefined : new ProgressLine(ctx.out, `convert ${name}`);
    progress?.update({ detail: board.isJetson ? 'building the TensorRT engine' : 'preparing the ONNX Runtime model', ...(last ? { expectedMs: last.durationMs } : {}) });
    const outcome = await convertPackage(
      convertDeps(env, board, env.log.child({ module: 'convert' })),
      {
        packageDir: found.pkg.dir,
        packageSha256: found.pkg.sha256,
        manifest: found.manifest,
        ...(precision ? { precision: precision as Precision } : {}),
        ...(maxBatch !== undefined ? { maxBatch } : {}),
        dryRun,
        signal: ctx.signal,
        onLine: (line) => (progress ? progress.log(`  | ${line}`) : ctx.out.info(`  | ${line}`)),
      },
    ).then(
      (o) => {
        progress?.end({ fraction: 1, detail: o.dryRun || !o.cached ? 'done' : 'cached', expectedMs: 0 });
        return o;
      },
      (err: unknown) => {
        progress?.end({ detail: 'failed' });
        throw err;
      },
    );
    if (outcome.dryRun) {
      ctx.out.result({ target: outcome.target, converter: outcome.converter, args: outcome.args, engine: outcome.engine, cacheKey: outcome.key, cached: outcome.cached });
      ctx.out.print(outcome.converter ? `${[outcome.converter, ...outcome.args].join(' ')}\n# engine: ${outcome.engine}${outcome.cached ? ' (cached)' : ''}` : `# ${name}: ONNX Runtime model (in-process preparation, no converter) → ${outcome.engine}${outcome.cached ? ' (cached)' : ''}`);
      return;
    }
    ctx.out.result({ target: outcome.target, cached: outcome.cached, servable: outcome.servable, ...(outcome.target === 'tensorrt' ? { engine: outcome.record } : {}) });
    const where = outcome.servable.kind === 'tensorrt' ? outcome.servable.enginePath : outcome.servable.onnxPath;
    ctx.out.print(`${name}: ${outcome.cached ? 'cached' : 'built'} ${outcome.target === 'tensorrt' ? 'TensorRT engine' : 'ONNX Runtime model'} ${where}`);
  },
};

export const enginesListCommand: CommandSpec = {
  path: ['engines', 'list'],
  summary: 'List cached TensorRT engines; stale ones (other TensorRT or CUDA arch) are never loaded.',
  async run(ctx) {
    const env = await ctx.agent();
    const board = await detectBoard(env.paths, { env: ctx.env });
    const all = await listEngines(env.stateDir, board);
    ctx.out.result({ tensorrt: board.tensorrt, cudaArch: board.cudaArch, engines: all });
    if (all.length === 0) {
      ctx.out.print('no cached engines');
      return;
    }
    ctx.out.print(
      all.map((e) => `${e.status.padEnd(6)}  ${e.key}  ${e.name}@${e.version}  ${e.precision} b${e.maxBatch}  TensorRT ${e.tensorrt} sm_${e.cudaArch ?? '?'}  ${e.createdAt}`).join('\n'),
    );
  },
};

import path from 'node:path';
import { AgentError, UsageError } from '../../core/errors.js';
import { httpDetector, savedPredictions } from '../../eval/detectors.js';
import { findPackage } from '../../models/store.js';
import { readTextMaybe } from '../../platform/fs.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { EVALUATE_OPTIONS, runEvaluation, type EvalModelInfo } from './evaluate-common.js';
import { optString } from './opts.js';

/**
 * `jetson-agent evaluate`: the model this board serves, through the daemon's low-priority lane
 * (live requests go first), with its real engine; the package's spec and model.json give the
 * classes, eval_config and the input frame.
 */
async function activeModel(base: string, token: string, signal: AbortSignal): Promise<{ name: string; version: string } | null> {
  let res: Response;
  try {
    res = await fetch(`${base}/v1/models`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal });
  } catch (err) {
    throw new AgentError('MODEL_NOT_READY', `The daemon's inference endpoint at ${base} is not reachable.`, {
      cause: err,
      hint: 'Start the daemon (jetson-agent run), or evaluate saved predictions with --detections DIR.',
    });
  }
  const body = (await res.json().catch(() => ({}))) as { active?: { name: string; version: string } | null };
  return body.active ?? null;
}

async function modelInfo(stateDir: string, ref: string): Promise<EvalModelInfo> {
  const { pkg, manifest } = await findPackage(stateDir, ref);
  const specText = manifest.spec ? await readTextMaybe(path.join(pkg.dir, manifest.spec)) : undefined;
  return {
    classes: manifest.classes,
    network: { width: manifest.input.width, height: manifest.input.height, resize: manifest.input.resize },
    confidenceThreshold: manifest.nms.confidenceThreshold,
    ...(specText !== undefined ? { specText: { text: specText, file: `${ref}:${manifest.spec}` } } : {}),
  };
}

export const evaluateCommand: CommandSpec = {
  path: ['evaluate'],
  summary: 'Evaluate the served model on a KITTI validation set: per-class AP, precision, recall and mAP as TAO prints them.',
  description:
    "Sends every image to the running daemon at low priority (live /v1/detect requests go first), matches the detections with TAO's rules and prints the AP table (docs/models.md, \"Evaluation\"). Mode, IoU and classes come from --spec, else the model package's spec. Exits 1 when images were skipped (the numbers are then marked partial).",
  options: {
    ...EVALUATE_OPTIONS,
    model: { type: 'string', arg: 'NAME@VERSION', description: 'The model to evaluate; it must be the one the daemon serves (default: whatever it serves).' },
  },
  examples: ['jetson-agent evaluate --dataset /data/kitti_val', 'jetson-agent evaluate --dataset /data/kitti_val --model yolov3@1.2 --mode integrate --json'],
  async run(ctx: CommandContext) {
    const env = await ctx.agent();
    const ref = optString(ctx, 'model');
    if (ref !== undefined && !/^[a-z0-9._-]+@[A-Za-z0-9._+-]+$/.test(ref)) throw new UsageError(`--model expects NAME@VERSION, got "${ref}".`);
    const detections = optString(ctx, 'detections');
    if (detections !== undefined) {
      const info = ref ? await modelInfo(env.stateDir, ref) : {};
      return runEvaluation(ctx, (mapping) => savedPredictions(detections, mapping), info);
    }
    const { host, port, token } = env.config.inference;
    const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const base = `http://${target.includes(':') ? `[${target}]` : target}:${port}`;
    const active = await activeModel(base, token, ctx.signal);
    if (!active) throw new AgentError('MODEL_NOT_READY', 'The daemon serves no model yet.', { hint: 'Activate one with `jetson-agent models activate NAME@VERSION`.' });
    const served = `${active.name}@${active.version}`;
    if (ref !== undefined && ref !== served) {
      throw new AgentError('MODEL_NOT_FOUND', `${ref} is not the model this board serves (${served}).`, {
        hint: `Activate it first (\`jetson-agent models activate ${ref}\`), or evaluate ${served}.`,
      });
    }
    // The generated demo model has no stored package: its classes come from --spec or the set.
    const info = await modelInfo(env.stateDir, served).catch((err: unknown) => {
      if (err instanceof AgentError && err.code === 'MODEL_NOT_FOUND') return {};
      throw err;
    });
    return runEvaluation(ctx, (_mapping, threshold) => httpDetector({ url: base, token, model: active.name, threshold }), info);
  },
};

/** `jetson-fleet evaluate`: the same over HTTP against a board, or on saved predictions. */
export const fleetEvaluateCommand: CommandSpec = {
  path: ['evaluate'],
  summary: "Evaluate a board's served model over HTTP (or saved predictions) on a KITTI validation set.",
  description:
    "POSTs every image to the board's /v1/detect at low priority (its live requests go first; OVERLOADED answers are retried with backoff) and prints the AP table with TAO's rules. Give --spec for target_class_mapping, eval_config and the input size. With --detections DIR no board is needed.",
  options: {
    ...EVALUATE_OPTIONS,
    url: { type: 'string', arg: 'URL', description: "The board's inference endpoint, e.g. http://board:8080." },
    token: { type: 'string', arg: 'TOKEN', description: "The board's inference.token, when it has one." },
    model: { type: 'string', arg: 'NAME', description: 'Only this model may answer (the board refuses if it serves another).' },
  },
  examples: ['jetson-fleet evaluate --url http://board-17:8080 --dataset ./kitti_val --spec yolo_v3_train.txt', 'jetson-fleet evaluate --detections ./tao_inference/labels --dataset ./kitti_val --spec yolo_v3_train.txt'],
  async run(ctx: CommandContext) {
    const detections = optString(ctx, 'detections');
    if (detections !== undefined) return runEvaluation(ctx, (mapping) => savedPredictions(detections, mapping));
    const url = optString(ctx, 'url');
    if (!url) throw new UsageError('--url URL is required (or --detections DIR).');
    if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--url "${url}" is not an http(s) URL.`);
    const token = optString(ctx, 'token') ?? ctx.env.JETSON_FLEET_INFERENCE_TOKEN;
    const model = optString(ctx, 'model');
    return runEvaluation(ctx, (_mapping, threshold) => httpDetector({ url, ...(token ? { token } : {}), ...(model ? { model } : {}), threshold }));
  },
};

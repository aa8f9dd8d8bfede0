import path from 'node:path';
import { AgentError, toAgentError } from '../core/errors.js';
import type { LabelledImage } from '../dataset/check.js';
import { placeImage, type ResizeMode } from '../inference/letterbox.js';
import { readBytes } from '../platform/fs.js';
import { computeAp, type ApResult, type ClassAp, type ImageResult, type Prediction } from './ap.js';
import type { ApMode, ClassMapping } from './eval-spec.js';
import { newStats, toGroundTruth } from './ground-truth.js';

/**
 * Runs a detector over a labelled set and computes TAO's AP table. The detector is whatever
 * serves the model: the inference service's low-priority lane in the daemon, its HTTP
 * endpoint (`?priority=low`), or saved predictions. Cancellable: `signal` stops it between
 * images and in-flight requests are abandoned.
 */
export interface DetectorAnswer {
  readonly model?: { readonly name: string; readonly version: string };
  readonly detections: readonly { readonly label: string; readonly score: number; readonly box: { x1: number; y1: number; x2: number; y2: number } }[];
}

/**
 * One image → detections in image pixels; `read` gives the image's bytes (saved predictions
 * do not need them). Throws an AgentError on failure.
 */
export type Detector = (image: LabelledImage, read: () => Promise<Uint8Array>, signal: AbortSignal) => Promise<DetectorAnswer>;

export interface Progress {
  readonly done: number;
  readonly total: number;
  readonly skipped: number;
  readonly elapsedMs: number;
  /** null until a few images are done. */
  readonly etaMs: number | null;
}

export interface EvaluateOptions {
  /** The set's root: image paths in `entries` are relative to it. */
  readonly root: string;
  readonly entries: readonly LabelledImage[];
  readonly mapping: ClassMapping;
  readonly mode: ApMode;
  readonly iouThreshold: number;
  readonly confidenceThreshold: number;
  /** The model's input and resize: ground truth is clipped in its frame, as TAO does (absent: to each image). */
  readonly network?: { readonly width: number; readonly height: number; readonly resize: ResizeMode };
  readonly detect: Detector;
  /** Images in flight at once (default 3). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
  /** Refuse (EVAL_TOO_LONG) when the estimate exceeds this: up front from `msPerImage`, then measured. */
  readonly deadlineMs?: number;
  /** A prior estimate (e.g. the model's recent latency) for the up-front refusal. */
  readonly msPerImage?: number;
  readonly now?: () => number;
}

export interface SkippedImage {
  readonly file: string;
  readonly code: string;
  readonly message: string;
}

export interface EvalReport {
  /** False when images were skipped: `map` is null then and `partialMap` covers the rest. */
  readonly complete: boolean;
  readonly model: { readonly name: string; readonly version: string } | null;
  readonly images: number;
  readonly evaluated: number;
  readonly skipped: readonly SkippedImage[];
  readonly mode: ApMode;
  readonly iouThreshold: number;
  readonly confidenceThreshold: number;
  readonly classes: readonly ClassAp[];
  readonly map: number | null;
  readonly partialMap: number | null;
  readonly mapWithGroundTruth: number | null;
  /** Ground truth left out: types outside the mapping, DontCare, degenerate boxes. */
  readonly dropped: { readonly unmapped: Readonly<Record<string, number>>; readonly dontCare: number; readonly tiny: number };
  /** Detections whose label is not a class of the evaluation. */
  readonly unknownLabels: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly imagesPerSecond: number;
}

/** Errors that say this image is bad, not that the detector is: skip it and go on. */
const IMAGE_CODES = new Set(['IMAGE_UNDECODABLE', 'IMAGE_TOO_LARGE', 'DATASET_IMAGE_CORRUPT', 'UNSUPPORTED_MEDIA_TYPE']);
const MEASURE_AFTER = 3;

function tooLong(total: number, msPerImage: number, deadlineMs: number, measured: string): AgentError {
  const est = Math.round((total * msPerImage) / 1000);
  return new AgentError('EVAL_TOO_LONG', `Evaluating ${total} images would take about ${est} s (${Math.round(msPerImage)} ms per image, ${measured}); the deadline is ${Math.round(deadlineMs / 1000)} s.`, {
    hint: 'Use a smaller validation set or a longer deadline.',
    details: { images: total, msPerImage, estimateMs: total * msPerImage, deadlineMs },
  });
}

export async function evaluateDataset(o: EvaluateOptions): Promise<EvalReport> {
  const now = o.now ?? (() => performance.now());
  const total = o.entries.length;
  if (o.deadlineMs !== undefined && o.msPerImage !== undefined && total * o.msPerImage > o.deadlineMs) throw tooLong(total, o.msPerImage, o.deadlineMs, 'estimated before starting');
  const ac = new AbortController();
  const onAbort = (): void => ac.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const stats = newStats();
  const unknownLabels: Record<string, number> = {};
  const results: (ImageResult | null)[] = new Array<ImageResult | null>(total).fill(null);
  const skipped: SkippedImage[] = [];
  let model: { name: string; version: string } | null = null;
  let done = 0;
  const t0 = now();
  const cancelled = (): AgentError => new AgentError('CANCELED', `The evaluation was canceled after ${done} of ${total} images; no result.`);
  const one = async (e: LabelledImage, i: number): Promise<void> => {
    const file = path.join(o.root, e.image.file);
    const read = async (): Promise<Uint8Array> => {
      try {
        return await readBytes(file);
      } catch (err) {
        throw new AgentError('DATASET_IMAGE_CORRUPT', `${e.image.file} could not be read: ${toAgentError(err).message}`, { cause: err });
      }
    };
    let ans: DetectorAnswer;
    try {
      ans = await o.detect(e, read, ac.signal);
    } catch (err) {
      if (ac.signal.aborted) throw cancelled();
      const ae = toAgentError(err);
      if (IMAGE_CODES.has(ae.code)) {
        skipped.push({ file: e.image.file, code: ae.code, message: ae.message });
        return;
      }
      throw new AgentError(ae.code, `The evaluation stopped at ${e.image.file} (${done} of ${total} done): ${ae.message}`, { cause: err, ...(ae.hint ? { hint: ae.hint } : {}) });
    }
    if (ans.model) {
      // Every image must be answered by one model: a switch mid-way would mix two models' numbers.
      if (model && (model.name !== ans.model.name || model.version !== ans.model.version)) {
        throw new AgentError('MODEL_NOT_FOUND', `The served model changed from ${model.name}@${model.version} to ${ans.model.name}@${ans.model.version} during the evaluation; no result.`, {
          hint: 'Evaluate again when no activation or rollout is running.',
        });
      }
      model = { name: ans.model.name, version: ans.model.version };
    }
    const width = e.image.width ?? 0;
    const height = e.image.height ?? 0;
    const placement = o.network ? placeImage(width, height, o.network.width, o.network.height, o.network.resize) : placeImage(width, height, width, height, 'stretch');
    const preds: Prediction[] = [];
    for (const d of ans.detections) {
      const id = o.mapping.classes.indexOf(d.label.toLowerCase());
      if (id < 0) unknownLabels[d.label] = (unknownLabels[d.label] ?? 0) + 1;
      else preds.push({ classId: id, score: d.score, box: d.box });
    }
    results[i] = { gt: toGroundTruth(e.objects, o.mapping, placement, stats), preds };
  };
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        if (ac.signal.aborted) throw cancelled();
        const i = next++;
        await one(o.entries[i]!, i);
        done++;
        const elapsed = now() - t0;
        const per = elapsed / done;
        if (o.deadlineMs !== undefined && done >= MEASURE_AFTER && total * per > o.deadlineMs) throw tooLong(total, per, o.deadlineMs, `measured over ${done} images`);
        o.onProgress?.({ done, total, skipped: skipped.length, elapsedMs: elapsed, etaMs: done >= MEASURE_AFTER ? per * (total - done) : null });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 3, total)) }, worker));
  } catch (err) {
    ac.abort(err);
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  const kept = results.filter((r): r is ImageResult => r !== null);
  const ap: ApResult = computeAp(kept, { classes: o.mapping.classes, mode: o.mode, iouThreshold: o.iouThreshold, confidenceThreshold: o.confidenceThreshold });
  const durationMs = now() - t0;
  const complete = skipped.length === 0;
  return {
    complete,
    model,
    images: total,
    evaluated: kept.length,
    skipped: skipped.sort((a, b) => (a.file < b.file ? -1 : 1)),
    mode: o.mode,
    iouThreshold: o.iouThreshold,
    confidenceThreshold: o.confidenceThreshold,
    classes: ap.classes,
    map: complete ? ap.map : null,
    partialMap: complete ? null : ap.map,
    mapWithGroundTruth: complete ? ap.mapWithGroundTruth : null,
    dropped: { unmapped: Object.fromEntries(stats.unmapped), dontCare: stats.dontCare, tiny: stats.tiny },
    unknownLabels,
    durationMs,
    imagesPerSecond: durationMs > 0 ? (kept.length * 1000) / durationMs : 0,
  };
}

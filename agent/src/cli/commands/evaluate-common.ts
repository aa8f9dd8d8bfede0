import { AgentError, UsageError } from '../../core/errors.js';
import type { ApMode, ClassMapping } from '../../eval/eval-spec.js';
import { loadEvalSet } from '../../eval/load-set.js';
import { evaluateDataset, type Detector, type EvalReport } from '../../eval/run.js';
import type { ResizeMode } from '../../inference/letterbox.js';
import type { CommandContext, OptionSpec } from '../types.js';
import { DATASET_DIR_OPTIONS, explicitDirs, loadSpecFor } from './dataset-check.js';
import { optInt, optString } from './opts.js';

/** What `jetson-agent evaluate` and `jetson-fleet evaluate` share: options, the run, the table. */
export const EVALUATE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  dataset: { type: 'string', arg: 'DIR', description: 'KITTI-layout validation set (image/ + label/).' },
  detections: { type: 'string', arg: 'DIR', description: 'Evaluate saved predictions instead (KITTI lines with a 16th field, the score, as `tao inference` writes them).' },
  mode: { type: 'string', arg: 'MODE', description: 'sample (VOC2007 11-point) or integrate (VOC2010+ area); default the spec\'s eval_config.average_precision_mode, else sample.' },
  iou: { type: 'string', arg: 'X', description: "Matching IoU threshold in (0, 1]; default the spec's eval_config.matching_iou_threshold, else 0.5." },
  'confidence-threshold': { type: 'string', arg: 'X', description: "Detections with a score above this count; default the spec's nms_config.confidence_threshold, else the model's." },
  'allow-empty-class': { type: 'boolean', description: 'Evaluate even when a class has no countable object (its AP is 0, as TAO counts it).' },
  concurrency: { type: 'string', arg: 'N', description: 'Images in flight at once (default 3).' },
  ...DATASET_DIR_OPTIONS,
};

export interface EvalModelInfo {
  readonly classes?: readonly string[];
  readonly network?: { readonly width: number; readonly height: number; readonly resize: ResizeMode };
  readonly confidenceThreshold?: number;
  /** A spec file shipped with the model (the package's), used when --spec is not given. */
  readonly specText?: { readonly text: string; readonly file: string };
}

function num(ctx: CommandContext, name: string, min: number, max: number, openMin = false): number | undefined {
  const v = optString(ctx, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n > max || (openMin ? n <= min : n < min)) throw new UsageError(`--${name} "${v}" must be a number in ${openMin ? '(' : '['}${min}, ${max}].`);
  return n;
}

export async function runEvaluation(ctx: CommandContext, makeDetector: (mapping: ClassMapping, threshold: number) => Detector, model: EvalModelInfo = {}): Promise<number> {
  const dataset = optString(ctx, 'dataset');
  if (!dataset) throw new UsageError('--dataset DIR is required.');
  const spec = (await loadSpecFor(ctx)) ?? (model.specText ? await loadSpecText(model.specText) : null);
  const modeOpt = optString(ctx, 'mode');
  if (modeOpt !== undefined && modeOpt !== 'sample' && modeOpt !== 'integrate') throw new UsageError(`--mode must be sample or integrate, got "${modeOpt}".`);
  const mode: ApMode = modeOpt ?? spec?.spec.mode ?? 'sample';
  const iouThreshold = num(ctx, 'iou', 0, 1, true) ?? spec?.spec.iouThreshold ?? 0.5;
  const confidenceThreshold = num(ctx, 'confidence-threshold', 0, 1) ?? (spec ? spec.spec.confidenceThreshold : undefined) ?? model.confidenceThreshold ?? 0;
  const set = await loadEvalSet(dataset, {
    ...explicitDirs(ctx, spec?.spec),
    mapping: spec?.spec.mapping ?? null,
    ...(model.classes ? { modelClasses: model.classes } : {}),
    allowEmptyClass: ctx.options['allow-empty-class'] === true,
    signal: ctx.signal,
  });
  if (model.classes) {
    const lower = model.classes.map((c) => c.toLowerCase());
    const missing = set.mapping.classes.filter((c) => !lower.includes(c));
    if (missing.length) {
      throw new AgentError('SPEC_INVALID', `The model does not have the class${missing.length > 1 ? 'es' : ''} ${missing.join(', ')} of the evaluation (model: ${model.classes.join(', ')}).`, {
        hint: "Pass the model's own training spec with --spec, so that target_class_mapping matches its classes.",
      });
    }
  }
  const network = model.network ?? (spec?.size ? { ...spec.size, resize: 'letterbox-center' as const } : null);
  for (const w of set.warnings.slice(0, 20)) ctx.out.info(`warning: ${w.file}${w.line ? `:${w.line}` : ''}: ${w.kind}: ${w.message}`);
  const started = Date.now();
  const report = await evaluateDataset({
    root: set.layout.root,
    entries: set.entries,
    mapping: set.mapping,
    mode,
    iouThreshold,
    confidenceThreshold,
    // Without the model's input size, ground truth is clipped to each image (its own frame).
    ...(network ? { network } : {}),
    detect: makeDetector(set.mapping, confidenceThreshold),
    concurrency: optInt(ctx, 'concurrency', 1) ?? 3,
    signal: ctx.signal,
    onProgress: (p) => ctx.out.progress(progressBar(p.done, p.total, p.etaMs, p.skipped)),
  });
  ctx.out.progress('');
  ctx.out.result({ dataset: set.layout.root, ...report, durationMs: Math.round(report.durationMs), startedAt: new Date(started).toISOString() });
  ctx.out.print(formatReport(report));
  if (!report.complete) {
    const e = new AgentError('EVAL_INCOMPLETE', `${report.skipped.length} of ${report.images} images were skipped; the numbers above are partial.`, { hint: 'Fix or remove the listed images and evaluate again.' });
    if (!ctx.out.json) ctx.out.info(`${ctx.program}: ${e.toLine()}`);
    return 1;
  }
  return 0;
}

async function loadSpecText(s: { text: string; file: string }): Promise<Awaited<ReturnType<typeof loadSpecFor>>> {
  const { parseSpec } = await import('../../models/spec-parse.js');
  const { readEvalSpec } = await import('../../eval/eval-spec.js');
  const { deriveFromSpec } = await import('../../models/spec-derive.js');
  const root = parseSpec(s.text, s.file);
  let size: { width: number; height: number } | null = null;
  try {
    const d = deriveFromSpec(root, s.file);
    size = { width: d.input.width, height: d.input.height };
  } catch {
    // eval fields only
  }
  return { spec: readEvalSpec(root, s.file), size, file: s.file };
}

export function progressBar(done: number, total: number, etaMs: number | null, skipped: number): string {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  const eta = etaMs === null ? '' : ` ETA ${formatDuration(etaMs)}`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${skipped ? ` (${skipped} skipped)` : ''}${eta}`;
}

function formatDuration(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

const f5 = (v: number): string => v.toFixed(5);

/** The table TAO prints (AP to 5 digits), with precision, recall and counts. */
export function formatReport(r: EvalReport): string {
  const lines: string[] = [];
  if (r.model) lines.push(`model:      ${r.model.name}@${r.model.version}`);
  lines.push(`mode:       ${r.mode.toUpperCase()}, IoU ≥ ${r.iouThreshold}, score > ${r.confidenceThreshold}`);
  lines.push(`images:     ${r.evaluated} of ${r.images} evaluated in ${(r.durationMs / 1000).toFixed(1)} s (${r.imagesPerSecond.toFixed(1)}/s)`);
  const w = Math.max(14, ...r.classes.map((c) => c.name.length + 2));
  lines.push(`${'class'.padEnd(w)}${'AP'.padEnd(10)}${'precision'.padEnd(11)}${'recall'.padEnd(9)}${'GT'.padStart(6)}${'TP'.padStart(6)}${'FP'.padStart(6)}${'difficult'.padStart(11)}`);
  for (const c of r.classes) {
    lines.push(
      `${c.name.padEnd(w)}${f5(c.ap).padEnd(10)}${c.precision.toFixed(4).padEnd(11)}${c.recall.toFixed(4).padEnd(9)}${String(c.groundTruth).padStart(6)}${String(c.tp).padStart(6)}${String(c.fp).padStart(6)}${String(c.difficult).padStart(11)}${c.groundTruth === 0 ? '  no ground truth: AP 0 (counted in mAP, as TAO does)' : ''}`,
    );
  }
  if (r.complete) lines.push(`${'mAP'.padEnd(w)}${f5(r.map ?? 0)}${r.mapWithGroundTruth !== null && r.mapWithGroundTruth !== r.map ? `   (over the classes with ground truth: ${f5(r.mapWithGroundTruth)})` : ''}`);
  else {
    lines.push(`PARTIAL: ${r.skipped.length} of ${r.images} images skipped; this is not the set's mAP.`);
    lines.push(`${'partial mAP'.padEnd(w)}${f5(r.partialMap ?? 0)}   (over ${r.evaluated} of ${r.images} images)`);
    for (const s of r.skipped.slice(0, 50)) lines.push(`  skipped ${s.file}: ${s.code}: ${s.message}`);
    if (r.skipped.length > 50) lines.push(`  … ${r.skipped.length - 50} more (--json lists all)`);
  }
  const unmapped = Object.entries(r.dropped.unmapped);
  if (unmapped.length || r.dropped.dontCare || r.dropped.tiny) {
    lines.push(`not evaluated: ${[...unmapped.map(([k, n]) => `${k} ${n}`), ...(r.dropped.dontCare ? [`DontCare ${r.dropped.dontCare}`] : []), ...(r.dropped.tiny ? [`degenerate boxes ${r.dropped.tiny}`] : [])].join(', ')}`);
  }
  const unknown = Object.entries(r.unknownLabels);
  if (unknown.length) lines.push(`detections of other classes (ignored): ${unknown.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return lines.join('\n');
}

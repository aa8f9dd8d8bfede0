import { AgentError } from '../../core/errors.js';
import { checkDataset, where } from '../../dataset/check.js';
import { resolveLayout, scanDataset } from '../../dataset/scan.js';
import { readEvalSpec } from '../../eval/eval-spec.js';
import { parseSpec } from '../../models/spec-parse.js';
import { deriveFromSpec } from '../../models/spec-derive.js';
import { fsError, readText } from '../../platform/fs.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { optString } from './opts.js';

/** The spec's evaluation fields and training size, with the data source directories. */
export async function loadSpecFor(ctx: CommandContext): Promise<{ spec: ReturnType<typeof readEvalSpec>; size: { width: number; height: number } | null; file: string } | null> {
  const file = optString(ctx, 'spec');
  if (file === undefined) return null;
  const text = await readText(file).catch((err: unknown) => {
    throw fsError('read', file, err);
  });
  const root = parseSpec(text, file);
  const spec = readEvalSpec(root, file);
  let size: { width: number; height: number } | null = null;
  try {
    const d = deriveFromSpec(root, file);
    size = { width: d.input.width, height: d.input.height };
  } catch {
    // A spec without a preprocessing size still maps classes and sets eval_config.
  }
  return { spec, size, file };
}

/** --image-dir/--label-dir, else the spec's first validation (or training) source. */
export function explicitDirs(ctx: CommandContext, spec: ReturnType<typeof readEvalSpec> | undefined): { imageDir?: string; labelDir?: string } {
  const src = spec ? (spec.validationSources.find((s) => s.labelDir) ?? spec.dataSources.find((s) => s.labelDir)) : undefined;
  const imageDir = optString(ctx, 'image-dir') ?? src?.imageDir;
  const labelDir = optString(ctx, 'label-dir') ?? src?.labelDir ?? undefined;
  return { ...(imageDir !== undefined ? { imageDir } : {}), ...(labelDir !== undefined ? { labelDir } : {}) };
}

export const DATASET_DIR_OPTIONS = {
  spec: { type: 'string', arg: 'FILE', description: "TAO experiment spec: target_class_mapping, eval_config, training size, and the data sources' image/label directories." },
  'image-dir': { type: 'string', arg: 'DIR', description: 'Image directory (relative to the dataset directory); default image/ (or images/, image_2/).' },
  'label-dir': { type: 'string', arg: 'DIR', description: 'Label directory (relative to the dataset directory); default label/ (or labels/, label_2/).' },
} as const;

const MAX_PRINTED = 200;

export const datasetCheckCommand: CommandSpec = {
  path: ['dataset', 'check'],
  summary: 'Check a KITTI detection set before an evaluation: ids, label lines, boxes, resolution, classes.',
  description:
    'Reads image/ and label/ (or the spec\'s image_directory_path / label_directory_path), decodes every image, and lists every problem with file:line: ids without partner, label lines without 15 fields or with non-numbers, boxes with x1 ≥ x2 / y1 ≥ y2 or outside the image, more than one resolution, classes of target_class_mapping without objects, types outside the mapping (DontCare is understood). Exits 1 when the set would mislead an evaluation.',
  positionals: [{ name: 'DIR', required: true, description: 'The dataset directory.' }],
  options: DATASET_DIR_OPTIONS,
  examples: ['jetson-fleet dataset check ./kitti_val --spec yolo_v3_train.txt', 'jetson-fleet dataset check ./kitti_val --json'],
  async run(ctx) {
    const dir = ctx.positionals[0] ?? '';
    const spec = await loadSpecFor(ctx);
    const layout = await resolveLayout(dir, explicitDirs(ctx, spec?.spec));
    const scan = await scanDataset(layout, {
      decode: true,
      signal: ctx.signal,
      onProgress: (done, total) => ctx.out.progress(`checking images ${done}/${total}`),
    });
    ctx.out.progress('');
    const { report } = checkDataset(scan, {
      ...(spec?.spec.mapping ? { mapping: spec.spec.mapping.map } : {}),
      ...(spec?.size ? { trainingSize: spec.size } : {}),
    });
    ctx.out.result({ dir: layout.root, imageDir: layout.imageDir, labelDir: layout.labelDir, ...report });
    const lines = [
      `dataset:    ${layout.root} (images ${layout.imageDir}, labels ${layout.labelDir})`,
      `images:     ${report.images}, label files ${report.labels}${report.resolution ? `, ${report.resolution.width}x${report.resolution.height}` : ''}`,
      `classes:    ${report.classes.map((c) => `${c.name} ${c.objects}${c.difficult ? ` (${c.difficult} difficult)` : ''}`).join(', ') || '(none)'}`,
      ...(report.dontCare ? [`DontCare:   ${report.dontCare} regions (not evaluated)`] : []),
      ...(report.unmapped.length ? [`unmapped:   ${report.unmapped.map((u) => `${u.type} ${u.objects}`).join(', ')}`] : []),
    ];
    for (const p of report.problems.slice(0, MAX_PRINTED)) lines.push(`${where(p)}: ${p.severity} ${p.kind}: ${p.message}`);
    if (report.problems.length > MAX_PRINTED) lines.push(`… ${report.problems.length - MAX_PRINTED} more problems (--json lists all)`);
    const kinds = Object.entries(report.summary.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
    lines.push(`summary:    ${report.summary.errors} errors, ${report.summary.warnings} warnings${kinds ? ` (${kinds})` : ''}`);
    lines.push(report.ok ? 'result:     ok' : 'result:     this set would mislead an evaluation (exit 1)');
    ctx.out.print(lines.join('\n'));
    if (!report.ok && !ctx.out.json) {
      ctx.out.info(new AgentError('DATASET_INVALID', `${report.summary.errors} problems in ${layout.root}.`, { hint: 'Fix the problems listed above and check again.' }).toLine());
    }
    return report.ok ? 0 : 1;
  },
};

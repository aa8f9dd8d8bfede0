import { AgentError } from '../core/errors.js';
import { checkDataset, where, type CheckReport, type LabelledImage, type Problem } from '../dataset/check.js';
import { DONT_CARE } from '../dataset/kitti-label.js';
import { resolveLayout, scanDataset, type DatasetLayout } from '../dataset/scan.js';
import type { ClassMapping } from './eval-spec.js';

/**
 * A labelled set ready for evaluateDataset: scanned (image headers only: a corrupt image is
 * skipped and reported by the evaluation), checked, and refused when its labels would make
 * the numbers wrong (malformed lines, ids without partner, an empty class).
 */
export interface EvalSet {
  readonly layout: DatasetLayout;
  readonly entries: LabelledImage[];
  readonly mapping: ClassMapping;
  readonly report: CheckReport;
  /** Problems that do not stop an evaluation (shown to the user). */
  readonly warnings: readonly Problem[];
}

export interface LoadSetOptions {
  readonly imageDir?: string;
  readonly labelDir?: string;
  /** From the spec; null: the model's classes (or the set's label types) map to themselves. */
  readonly mapping: ClassMapping | null;
  /** The model's class list, for the identity mapping without a spec. */
  readonly modelClasses?: readonly string[];
  readonly allowEmptyClass?: boolean;
  readonly signal?: AbortSignal;
}

/** Label problems refuse the evaluation; these codes say which. */
const REFUSE: Readonly<Record<string, 'DATASET_LABEL_MALFORMED' | 'DATASET_IMAGE_MISSING' | 'DATASET_CLASS_EMPTY'>> = {
  fields: 'DATASET_LABEL_MALFORMED',
  'not-numeric': 'DATASET_LABEL_MALFORMED',
  'occlusion-not-integer': 'DATASET_LABEL_MALFORMED',
  'box-order': 'DATASET_LABEL_MALFORMED',
  'missing-image': 'DATASET_IMAGE_MISSING',
  'missing-label': 'DATASET_IMAGE_MISSING',
  'duplicate-id': 'DATASET_IMAGE_MISSING',
  'empty-class': 'DATASET_CLASS_EMPTY',
};

export function identityMapping(names: Iterable<string>): ClassMapping {
  const classes = [...new Set([...names].map((n) => n.toLowerCase()).filter((n) => n !== DONT_CARE))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { map: new Map(classes.map((c) => [c, c])), classes };
}

export async function loadEvalSet(root: string, o: LoadSetOptions): Promise<EvalSet> {
  const layout = await resolveLayout(root, { ...(o.imageDir !== undefined ? { imageDir: o.imageDir } : {}), ...(o.labelDir !== undefined ? { labelDir: o.labelDir } : {}) });
  const scan = await scanDataset(layout, { decode: false, ...(o.signal ? { signal: o.signal } : {}) });
  let mapping = o.mapping;
  if (!mapping) {
    if (o.modelClasses?.length) mapping = identityMapping(o.modelClasses);
    else {
      // No spec and no model class list: the set's own label types are the classes.
      const types = new Set<string>();
      for (const l of scan.labels) for (const line of l.text.split('\n')) if (line.trim()) types.add(line.trim().split(/\s+/)[0] ?? '');
      mapping = identityMapping([...types].filter((t) => t !== ''));
    }
  }
  const { report, entries } = checkDataset(scan, { mapping: mapping.map });
  const refusing = report.problems.filter((p) => {
    const code = REFUSE[p.kind];
    return code !== undefined && !(code === 'DATASET_CLASS_EMPTY' && o.allowEmptyClass);
  });
  if (refusing.length > 0) {
    const first = refusing[0]!;
    const code = REFUSE[first.kind]!;
    const more = refusing.length > 1 ? ` (${refusing.length - 1} more problem${refusing.length > 2 ? 's' : ''}; \`jetson-fleet dataset check ${root}\` lists them all)` : '';
    throw new AgentError(code, `${where(first)}: ${first.message}${more}.`, {
      hint:
        code === 'DATASET_CLASS_EMPTY'
          ? 'Add labelled examples of that class, or pass --allow-empty-class to evaluate anyway (TAO counts its AP as 0).'
          : code === 'DATASET_IMAGE_MISSING'
            ? 'Every image needs a label file with the same id and every label file an image; add or remove the partner.'
            : 'Fix that label line (15 space-separated KITTI fields), then evaluate again.',
      details: { problems: refusing.slice(0, 50) },
    });
  }
  const warnings = report.problems.filter((p) => REFUSE[p.kind] === undefined || (REFUSE[p.kind] === 'DATASET_CLASS_EMPTY' && o.allowEmptyClass));
  // Images that do not decode at header level stay in: the evaluation skips and reports them.
  const all = [...entries, ...scan.images.filter((i) => i.error !== null).flatMap((image) => {
    const label = scan.labels.find((l) => l.id === image.id);
    return label ? [{ id: image.id, image, label, objects: [] }] : [];
  })].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { layout, entries: all, mapping, report, warnings };
}

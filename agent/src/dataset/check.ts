import { DONT_CARE, parseKittiLabels, type KittiObject, type LabelProblemKind } from './kitti-label.js';

/**
 * `jetson-fleet dataset check`: every problem of a KITTI detection set that would mislead an
 * evaluation, with file:line (docs/models.md "Datasets"). Pure: the scan (scan.ts) reads the
 * directory, the image headers and the label texts; this decides.
 */
export type ProblemKind =
  | LabelProblemKind
  | 'box-outside'
  | 'missing-image'
  | 'missing-label'
  | 'duplicate-id'
  | 'unsupported-image'
  | 'corrupt-image'
  | 'resolution'
  | 'training-size'
  | 'empty-class'
  | 'unmapped-class'
  | 'no-images';

export type Severity = 'error' | 'warning';

export interface Problem {
  readonly severity: Severity;
  readonly kind: ProblemKind;
  /** Path relative to the dataset directory. */
  readonly file: string;
  readonly line?: number;
  readonly message: string;
}

export interface ScannedImage {
  readonly id: string;
  /** Relative path, e.g. image/000001.png. */
  readonly file: string;
  readonly format: string | null;
  readonly width: number | null;
  readonly height: number | null;
  /** Why it could not be read or decoded; null when it decoded. */
  readonly error: string | null;
}

export interface ScannedLabel {
  readonly id: string;
  readonly file: string;
  readonly text: string;
}

export interface ScanResult {
  readonly images: readonly ScannedImage[];
  readonly labels: readonly ScannedLabel[];
  /** Image files with the same id (000001.jpg and 000001.png). */
  readonly duplicates: readonly { readonly id: string; readonly files: readonly string[] }[];
  /** Files in the image directory that are not JPEG/PNG (sharp and the inference service read those two). */
  readonly unsupported: readonly string[];
}

export interface CheckOptions {
  /** Lower-cased type → target class, from the spec's target_class_mapping. */
  readonly mapping?: ReadonlyMap<string, string>;
  /** The spec's training size: a set at another size gets a warning. */
  readonly trainingSize?: { readonly width: number; readonly height: number };
}

export interface ClassSummary {
  readonly name: string;
  readonly objects: number;
  /** Objects TAO counts as difficult (occluded ≠ 0). */
  readonly difficult: number;
  readonly images: number;
}

export interface CheckReport {
  readonly images: number;
  readonly labels: number;
  /** The set's resolution (the most common one); null without readable images. */
  readonly resolution: { readonly width: number; readonly height: number } | null;
  /** Target classes with the mapping (source types otherwise), sorted. */
  readonly classes: readonly ClassSummary[];
  readonly unmapped: readonly { readonly type: string; readonly objects: number }[];
  readonly dontCare: number;
  readonly problems: readonly Problem[];
  readonly summary: { readonly errors: number; readonly warnings: number; readonly byKind: Readonly<Record<string, number>> };
  /** False when an evaluation on this set would mislead (any error). */
  readonly ok: boolean;
}

/** Parsed labels of one id, for the evaluation (which refuses a set with errors). */
export interface LabelledImage {
  readonly id: string;
  readonly image: ScannedImage;
  readonly label: ScannedLabel;
  readonly objects: readonly KittiObject[];
}

export function checkDataset(scan: ScanResult, o: CheckOptions = {}): { report: CheckReport; entries: LabelledImage[] } {
  const problems: Problem[] = [];
  const add = (p: Problem): void => {
    problems.push(p);
  };
  const labels = new Map(scan.labels.map((l) => [l.id, l]));
  const images = new Map(scan.images.map((i) => [i.id, i]));
  for (const d of scan.duplicates) add({ severity: 'error', kind: 'duplicate-id', file: d.files[0] ?? d.id, message: `id ${d.id} has several images (${d.files.join(', ')}); keep one` });
  for (const f of scan.unsupported) add({ severity: 'error', kind: 'unsupported-image', file: f, message: 'not a JPEG or PNG (the agent decodes those two); convert it' });
  if (scan.images.length === 0) add({ severity: 'error', kind: 'no-images', file: '.', message: 'no JPEG/PNG images found' });

  // Resolution: the most common size is the set's; every other is a problem (one resolution per set).
  const sizes = new Map<string, number>();
  for (const im of scan.images) if (im.width && im.height) sizes.set(`${im.width}x${im.height}`, (sizes.get(`${im.width}x${im.height}`) ?? 0) + 1);
  const common = [...sizes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  const [cw, ch] = common ? common.split('x').map(Number) : [undefined, undefined];
  const resolution = cw && ch ? { width: cw, height: ch } : null;
  if (resolution && o.trainingSize && (resolution.width !== o.trainingSize.width || resolution.height !== o.trainingSize.height)) {
    add({
      severity: 'warning',
      kind: 'training-size',
      file: '.',
      message: `images are ${resolution.width}x${resolution.height}, the spec trains at ${o.trainingSize.width}x${o.trainingSize.height}; \`jetson-fleet dataset resize\` scales images and boxes`,
    });
  }

  const entries: LabelledImage[] = [];
  const perClass = new Map<string, { objects: number; difficult: number; images: Set<string> }>();
  const unmapped = new Map<string, number>();
  let dontCare = 0;
  for (const im of [...scan.images].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (im.error !== null) add({ severity: 'error', kind: 'corrupt-image', file: im.file, message: `cannot be decoded: ${im.error}` });
    else if (resolution && (im.width !== resolution.width || im.height !== resolution.height)) {
      add({ severity: 'error', kind: 'resolution', file: im.file, message: `${im.width}x${im.height}, the set is ${resolution.width}x${resolution.height}` });
    }
    const label = labels.get(im.id);
    if (!label) {
      add({ severity: 'error', kind: 'missing-label', file: im.file, message: `no label file ${im.id}.txt` });
      continue;
    }
    const parsed = parseKittiLabels(label.text, 'labels');
    for (const p of parsed.problems) add({ severity: 'error', kind: p.kind, file: label.file, line: p.line, message: p.message });
    for (const ob of parsed.objects) {
      if (im.width && im.height && (ob.box.x1 < 0 || ob.box.y1 < 0 || ob.box.x2 > im.width || ob.box.y2 > im.height)) {
        add({
          severity: 'error',
          kind: 'box-outside',
          file: label.file,
          line: ob.line,
          message: `box (${ob.box.x1}, ${ob.box.y1}, ${ob.box.x2}, ${ob.box.y2}) is outside the ${im.width}x${im.height} image`,
        });
      }
      const type = ob.type.toLowerCase();
      const name = o.mapping ? o.mapping.get(type) : type === DONT_CARE ? undefined : type;
      if (name === undefined) {
        if (type === DONT_CARE) dontCare++;
        else unmapped.set(type, (unmapped.get(type) ?? 0) + 1);
        continue;
      }
      const c = perClass.get(name) ?? { objects: 0, difficult: 0, images: new Set<string>() };
      c.objects++;
      if (ob.occluded !== 0) c.difficult++;
      c.images.add(im.id);
      perClass.set(name, c);
    }
    if (im.error === null) entries.push({ id: im.id, image: im, label, objects: parsed.objects });
  }
  for (const l of scan.labels) if (!images.has(l.id)) add({ severity: 'error', kind: 'missing-image', file: l.file, message: `no image ${l.id}.jpg/.png` });
  if (o.mapping) {
    for (const name of new Set(o.mapping.values())) {
      const c = perClass.get(name);
      if (!c || c.objects - c.difficult === 0) {
        add({
          severity: 'error',
          kind: 'empty-class',
          file: '.',
          message: c
            ? `class ${name} has only difficult objects (occluded ≠ 0), which TAO does not count: its AP is 0 and pulls the mAP down`
            : `class ${name} has no objects in the set: its AP is 0 and pulls the mAP down`,
        });
      }
    }
    for (const [type, n] of unmapped) add({ severity: 'warning', kind: 'unmapped-class', file: '.', message: `type "${type}" (${n} objects) is not in target_class_mapping and is not evaluated` });
  }
  const classes = [...perClass.entries()]
    .map(([name, c]) => ({ name, objects: c.objects, difficult: c.difficult, images: c.images.size }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  if (o.mapping) for (const name of new Set(o.mapping.values())) if (!perClass.has(name)) classes.push({ name, objects: 0, difficult: 0, images: 0 });
  classes.sort((a, b) => (a.name < b.name ? -1 : 1));
  const byKind: Record<string, number> = {};
  for (const p of problems) byKind[p.kind] = (byKind[p.kind] ?? 0) + 1;
  const errors = problems.filter((p) => p.severity === 'error').length;
  return {
    report: {
      images: scan.images.length,
      labels: scan.labels.length,
      resolution,
      classes,
      unmapped: [...unmapped.entries()].map(([type, objects]) => ({ type, objects })).sort((a, b) => (a.type < b.type ? -1 : 1)),
      dontCare,
      problems,
      summary: { errors, warnings: problems.length - errors, byKind },
      ok: errors === 0,
    },
    entries,
  };
}

/** `file:line` (or `file`) for messages. */
export function where(p: Pick<Problem, 'file' | 'line'>): string {
  return p.line !== undefined ? `${p.file}:${p.line}` : p.file;
}

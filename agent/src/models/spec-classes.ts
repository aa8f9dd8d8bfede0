import { specMessage, specMessages, type SpecMessage } from './spec-parse.js';
import { posOf, type SpecReader } from './spec-read.js';

/**
 * Class list of a TAO detection spec (docs/reference/tao-specs.md §5). Class id = index in
 * sorted(set(target_class_mapping values)), Python `sorted` over str = code-point order:
 * yolov3_exporter.py / yolov4_exporter.py get_class_labels (the labels.txt of tao export),
 * yolo_v4/dataio/tf_data_pipe.py:328 and yolo_v3/data_loader/data_loader.py:101 (TFRecord
 * training). The label-directory loader lower-cases the names first
 * (common/dataio/detection_data_sequence.py:57), so with mixed-case values the model's ids
 * follow the lower-cased order when the training data_sources use label_directory_path.
 * Pure.
 */
export interface SpecClasses {
  readonly classes: string[];
  /** What TAO's exporter writes as BatchedNMS numClasses: distinct values, case kept. */
  readonly exporterNumClasses: number;
}

function byCodePoint(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** Which oneof the first training source sets (protobuf: the last one given wins). */
function labelsFormat(dataset: SpecMessage | undefined): 'label_directory_path' | 'tfrecords_path' | null {
  const first = specMessages(dataset, 'data_sources')[0];
  const set = first?.fields.filter((f) => f.name === 'label_directory_path' || f.name === 'tfrecords_path');
  const last = set?.[set.length - 1]?.name;
  return last === 'label_directory_path' || last === 'tfrecords_path' ? last : null;
}

export function readClasses(r: SpecReader, root: SpecMessage): SpecClasses {
  const dataset = specMessage(root, 'dataset_config');
  const entries = specMessages(dataset, 'target_class_mapping');
  if (entries.length === 0) {
    const flag = r.flags.classes ? `; pass ${r.flags.classes}` : '';
    r.warn(posOf(root, 'dataset_config'), `dataset_config has no target_class_mapping: the class list is unknown (TAO requires it)${flag}`);
    return { classes: [], exporterNumClasses: 0 };
  }
  // map<string,string>: a repeated key keeps its last value.
  const mapping = new Map<string, string>();
  for (const e of entries) {
    const at = posOf(dataset, 'target_class_mapping');
    const key = r.str(e, 'key', 'dataset_config.target_class_mapping.key', 'classes') ?? '';
    const value = r.str(e, 'value', 'dataset_config.target_class_mapping.value', 'classes');
    if (value === undefined || value === '') throw r.invalid(`the target_class_mapping entry for "${key}" has no value`, e.fields[0]?.pos ?? at, 'classes');
    if (mapping.has(key) && mapping.get(key) !== value) r.warn(e.fields[0]?.pos ?? at, `target_class_mapping key "${key}" is mapped twice ("${mapping.get(key)}", "${value}"): the last wins`);
    mapping.set(key, value);
  }
  const values = [...new Set(mapping.values())];
  const exact = [...values].sort(byCodePoint);
  if (values.every((v) => v === v.toLowerCase())) return { classes: exact, exporterNumClasses: values.length };
  const lowered = [...new Set(values.map((v) => v.toLowerCase()))].sort(byCodePoint);
  const sequence = labelsFormat(dataset) === 'label_directory_path';
  const used = sequence ? lowered : exact;
  r.warn(
    posOf(dataset, 'target_class_mapping'),
    `target_class_mapping values are not all lower case: TAO's label-directory loader orders lower-cased names (${lowered.join(', ')}), its TFRecord loader and tao export's labels.txt keep the case (${exact.join(', ')}); ` +
      `using the ${sequence ? 'lower-cased' : 'case-kept'} order of this spec's ${sequence ? 'label_directory_path' : 'tfrecords_path'} training data`,
  );
  return { classes: used, exporterNumClasses: values.length };
}

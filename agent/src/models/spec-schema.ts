import type { SpecMessage, SpecPos } from './spec-parse.js';

/**
 * The fields TAO's YOLO experiment protos declare, for the unknown-field check
 * (docs/reference/tao-specs.md §2, §6). A field not listed is kept in the tree and in the
 * packaged spec.txt and only warned about, naming file:line: TAO adds fields in every
 * release, and an old agent must not refuse a new spec. `opaque` marks a message the agent
 * does not read (training_config, eval_config): its contents are not checked. Pure.
 *
 * Sources (NVIDIA/tao_tensorflow1_backend, nvidia_tao_tf1/cv/): yolo_v3/proto/experiment.proto,
 * yolo_v4/proto/experiment.proto, yolo_v3/proto/augmentation_config.proto,
 * yolo_v4/proto/augmentation_config.proto, yolo_v3/proto/dataset_config.proto,
 * yolo_v3/proto/yolov3_config.proto, yolo_v4/proto/yolov4_config.proto,
 * common/proto/nms_config.proto; TLT 2.0's nested layout: detectnet_v2/proto/augmentation_config.proto
 * and detectnet_v2/proto/dataset_config.proto.
 */
export type FieldKind = 'scalar' | 'opaque' | MessageSchema;

export interface MessageSchema {
  /** Dotted path for messages, e.g. `dataset_config.data_sources`. */
  readonly path: string;
  readonly fields: Readonly<Record<string, FieldKind>>;
}

export interface SpecWarning {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

const scalars = (path: string, names: readonly string[], more: Record<string, FieldKind> = {}): MessageSchema => ({
  path,
  fields: { ...Object.fromEntries(names.map((n) => [n, 'scalar' as const])), ...more },
});

const SOURCE_FIELDS = ['label_directory_path', 'tfrecords_path', 'image_directory_path', 'root_path', 'source_weight'];

const YOLOV3_FIELDS = [
  'big_anchor_shape',
  'mid_anchor_shape',
  'small_anchor_shape',
  'matching_neutral_box_iou',
  'arch',
  'nlayers',
  'arch_conv_blocks',
  'loss_loc_weight',
  'loss_neg_obj_weights',
  'loss_class_weights',
  'freeze_blocks',
  'freeze_bn',
  'force_relu',
];

const YOLOV4_FIELDS = [
  ...YOLOV3_FIELDS,
  'box_matching_iou',
  'activation',
  'focal_loss_alpha',
  'focal_loss_gamma',
  'label_smoothing',
  'big_grid_xy_extend',
  'mid_grid_xy_extend',
  'small_grid_xy_extend',
];

const AUGMENTATION: MessageSchema = scalars(
  'augmentation_config',
  [
    // TAO 3.0+ flat layout (yolo_v3 and yolo_v4 augmentation_config.proto, union).
    'hue',
    'saturation',
    'exposure',
    'vertical_flip',
    'horizontal_flip',
    'jitter',
    'output_width',
    'output_height',
    'output_channel',
    'output_depth',
    'randomize_input_shape_period',
    'mosaic_prob',
    'mosaic_min_ratio',
  ],
  {
    image_mean: scalars('augmentation_config.image_mean', ['key', 'value']),
    // TLT 2.0 nested layout.
    preprocessing: scalars('augmentation_config.preprocessing', [
      'output_image_width',
      'output_image_height',
      'output_image_min',
      'output_image_max',
      'enable_auto_resize',
      'output_image_channel',
      'crop_left',
      'crop_top',
      'crop_right',
      'crop_bottom',
      'min_bbox_width',
      'min_bbox_height',
      'scale_width',
      'scale_height',
    ]),
    spatial_augmentation: scalars('augmentation_config.spatial_augmentation', [
      'hflip_probability',
      'vflip_probability',
      'zoom_min',
      'zoom_max',
      'translate_max_x',
      'translate_max_y',
      'rotate_rad_max',
      'rotate_probability',
    ]),
    color_augmentation: scalars('augmentation_config.color_augmentation', [
      'color_shift_stddev',
      'hue_rotation_max',
      'saturation_shift_max',
      'contrast_scale_max',
      'contrast_center',
    ]),
  },
);

const DATASET: MessageSchema = scalars(
  'dataset_config',
  ['validation_fold', 'include_difficult_in_training', 'type', 'image_extension', 'is_monochrome', 'dataloader_mode', 'sampling_mode'],
  {
    data_sources: scalars('dataset_config.data_sources', SOURCE_FIELDS),
    validation_data_sources: scalars('dataset_config.validation_data_sources', SOURCE_FIELDS),
    // TLT 2.0 (detectnet_v2 dataset_config.proto): one validation source.
    validation_data_source: scalars('dataset_config.validation_data_source', SOURCE_FIELDS),
    target_class_mapping: scalars('dataset_config.target_class_mapping', ['key', 'value']),
  },
);

/** Top level of a YOLOv3 / YOLOv4 / YOLOv4-tiny experiment (TAO) or a TLT 2.0 YOLO spec. */
export const YOLO_SPEC_SCHEMA: MessageSchema = {
  path: '',
  fields: {
    random_seed: 'scalar',
    dataset_config: DATASET,
    augmentation_config: AUGMENTATION,
    training_config: 'opaque',
    eval_config: 'opaque',
    class_weighting_config: 'opaque',
    nms_config: scalars('nms_config', ['confidence_threshold', 'clustering_iou_threshold', 'top_k', 'infer_nms_score_bits', 'force_on_cpu']),
    yolov3_config: scalars('yolov3_config', YOLOV3_FIELDS),
    yolov4_config: scalars('yolov4_config', YOLOV4_FIELDS),
    // TLT 2.0 named the block yolo_config.
    yolo_config: scalars('yolo_config', YOLOV3_FIELDS),
  },
};

function where(path: string): string {
  return path ? ` in ${path}` : ' at the top level';
}

/** Warnings for every field the schema does not know, or of the wrong kind (message vs value). */
export function checkSpecFields(root: SpecMessage, file: string, schema: MessageSchema = YOLO_SPEC_SCHEMA): SpecWarning[] {
  const out: SpecWarning[] = [];
  const warn = (pos: SpecPos, message: string): void => {
    out.push({ file, line: pos.line, col: pos.col, message });
  };
  const walk = (msg: SpecMessage, s: MessageSchema): void => {
    for (const f of msg.fields) {
      const kind = s.fields[f.name];
      if (kind === undefined) {
        warn(f.pos, `unknown field "${f.name}"${where(s.path)}: kept in the packaged spec, ignored by the agent`);
      } else if (kind === 'scalar') {
        if (f.value.kind === 'message') warn(f.pos, `"${f.name}"${where(s.path)} should be a value, not a message: ignored`);
      } else if (f.value.kind !== 'message') {
        warn(f.pos, `"${f.name}"${where(s.path)} should be a message { … }, not a value: ignored`);
      } else if (kind !== 'opaque') {
        walk(f.value.value, kind);
      }
    }
  };
  walk(root, schema);
  return out;
}

export function formatWarning(w: SpecWarning): string {
  return w.line > 0 ? `${w.file}:${w.line}:${w.col}: ${w.message}` : `${w.file}: ${w.message}`;
}

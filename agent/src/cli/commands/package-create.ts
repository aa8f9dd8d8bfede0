import { UsageError } from '../../core/errors.js';
import { createPackage } from '../../models/package.js';
import { loadKeyFile } from '../../models/keyring.js';
import { parseDims } from '../../models/package-manifest.js';
import { formatWarning } from '../../models/spec-schema.js';
import type { CommandSpec } from '../types.js';
import { optInt, optString } from './opts.js';
import { FAMILY_OPTIONS, labelsFile, profileFlags, thresholdFlags } from './package-flags.js';

export const packageCreateCommand: CommandSpec = {
  path: ['package', 'create'],
  summary: 'Build and validate a model package (tar with model.json) and print its sha256.',
  description:
    'An .onnx model\'s detector family is read from its graph (inputs, outputs, metadata_props; --family overrides it) and the family\'s upstream pre-processing and thresholds are recorded (flags override each field); a graph no family fits is refused with MODEL_FAMILY_UNKNOWN. For TAO models, fields not given as flags are derived from the TLT 2.0 / TAO 3.0–5.x experiment spec (input dims, classes, NMS, image mean, network); --input, --classes and --network replace the spec\'s values. Spec warnings (unknown fields, replaced values) go to stderr with file:line. The .etlt header is checked; with --key-file the key is checked too (the key itself is never packaged: model.json carries --key-ref). --out ending in .gz/.tgz writes gzip.',
  options: {
    model: { type: 'string', arg: 'FILE', description: '.etlt or .onnx model (required).' },
    spec: { type: 'string', arg: 'FILE', description: 'TLT experiment spec (protobuf text); packaged as spec.txt.' },
    name: { type: 'string', arg: 'NAME', description: 'Package name [a-z0-9._-]+ (default: from the model file name).' },
    version: { type: 'string', arg: 'V', description: 'Package version (required).' },
    network: { type: 'string', arg: 'NET', description: 'yolov3 | yolov4 | yolov4-tiny | ssd | detectnet_v2 (default: from the spec).' },
    classes: { type: 'string', arg: 'a,b,c', description: 'Class labels in class-id order (default: sorted target_class_mapping values); replaces the spec\'s.' },
    input: { type: 'string', arg: 'C,H,W', description: 'Input channels,height,width (default: from the spec); replaces the spec\'s.' },
    precision: { type: 'string', arg: 'P', description: 'fp32 | fp16 | int8 (default fp16).' },
    'max-batch': { type: 'string', arg: 'N', description: 'Max batch of the engine (default 1).' },
    'key-ref': { type: 'string', arg: 'NAME', description: 'Keyring name of the .etlt key on the boards.' },
    'key-file': { type: 'string', arg: 'FILE', description: 'Check the .etlt key now (file with the key, mode 600).' },
    calibration: { type: 'string', arg: 'FILE', description: 'INT8 calibration cache; packaged as calibration.bin.' },
    golden: { type: 'string', arg: 'DIR', description: 'Golden images + expected.json ({cases:[{image, detections}]}).' },
    out: { type: 'string', arg: 'PKG.tar', description: 'Output file (required).' },
    ...FAMILY_OPTIONS,
  },
  examples: [
    'jetson-fleet package create --model yolox_nano.onnx --labels coco80.names --version 1 --out yolox-nano-1.tar',
    'jetson-fleet package create --model yolo11n.onnx --version 1 --score-threshold 0.3 --out yolo11n-1.tar   # names and imgsz from the Ultralytics metadata',
    'jetson-fleet package create --model yolo_resnet18.etlt --spec yolo_retrain_resnet18_kitti.txt --version 1.0.0 --key-ref yolo --out yolo-1.0.0.tar.gz',
  ],
  async run(ctx) {
    const model = optString(ctx, 'model');
    const out = optString(ctx, 'out');
    if (!model) throw new UsageError('--model is required.');
    if (!out) throw new UsageError('--out is required.');
    const keyFile = optString(ctx, 'key-file');
    const classes = optString(ctx, 'classes')?.split(',').map((c) => c.trim()).filter(Boolean) ?? (await labelsFile(ctx));
    const profile = profileFlags(ctx);
    const thresholds = thresholdFlags(ctx);
    const input = optString(ctx, 'input');
    const opt = <K extends string>(k: K, v: string | number | undefined) => (v === undefined ? {} : { [k]: v });
    const r = await createPackage({
      model,
      out,
      ...opt('specFile', optString(ctx, 'spec')),
      ...opt('name', optString(ctx, 'name')),
      ...opt('version', optString(ctx, 'version')),
      ...opt('network', optString(ctx, 'network')),
      ...opt('precision', optString(ctx, 'precision')),
      ...opt('maxBatch', optInt(ctx, 'max-batch', 1)),
      ...opt('keyRef', optString(ctx, 'key-ref')),
      ...opt('calibration', optString(ctx, 'calibration')),
      ...opt('goldenDir', optString(ctx, 'golden')),
      ...opt('family', optString(ctx, 'family')),
      ...(profile ? { profile } : {}),
      ...(thresholds ? { thresholds } : {}),
      ...(classes ? { classes } : {}),
      ...(input ? { dims: parseDims(input) } : {}),
      ...(keyFile ? { key: await loadKeyFile(keyFile) } : {}),
      specFlags: { input: '--input C,H,W', classes: '--classes a,b,c', network: '--network NET' },
    });
    for (const w of r.warnings) ctx.out.info(`warning: ${formatWarning(w)}`);
    ctx.out.result({ file: r.file, sha256: r.sha256, sizeBytes: r.sizeBytes, manifest: r.manifest, warnings: r.warnings });
    ctx.out.print(`${r.sha256}  ${r.file}`);
    ctx.out.info(`${r.manifest.name}@${r.manifest.version}: ${r.manifest.family ?? r.manifest.network} ${r.manifest.format}, input ${r.manifest.input.channels}x${r.manifest.input.height}x${r.manifest.input.width}, classes [${r.manifest.classes.join(', ')}]`);
  },
};

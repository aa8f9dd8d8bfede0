import { readText } from '../../platform/fs.js';
import { fsError } from '../../platform/fs.js';
import { parseSpec } from '../../models/spec-parse.js';
import { deriveFromSpec, tensorNormalisation } from '../../models/spec-derive.js';
import { formatWarning } from '../../models/spec-schema.js';
import { shapeArgs } from '../../convert/args.js';
import type { CommandSpec } from '../types.js';
import { optInt } from './opts.js';

const LAYOUTS = { tao: 'TAO 3.0+ (flat augmentation_config)', tlt2: 'TLT 2.0 (augmentation_config.preprocessing)' } as const;

export const specShowCommand: CommandSpec = {
  path: ['spec', 'show'],
  summary: 'Parse a TLT 2.0 / TAO 3.0–5.x experiment spec and show what the agent derives from it.',
  description:
    'Input C,H,W, depth and mean, classes (sorted unique target_class_mapping values = class ids), nms_config and the BatchedNMS attributes tao export writes, and the converter shape flags (tao-converter -d/-p/-o/-i, trtexec --minShapes/--optShapes/--maxShapes) for --max-batch. Unknown fields and defaults are warnings on stderr with file:line.',
  options: {
    'max-batch': { type: 'string', arg: 'N', description: 'Max batch for the -p and trtexec shapes (default 1).' },
  },
  positionals: [{ name: 'SPEC', required: true, description: 'Experiment spec (protobuf text).' }],
  examples: ['jetson-agent spec show yolo_v4_train_resnet18_kitti.txt', 'jetson-agent spec show yolo_v3_retrain_resnet18_kitti.txt --max-batch 4 --json'],
  async run(ctx) {
    const file = ctx.positionals[0] ?? '';
    const maxBatch = optInt(ctx, 'max-batch', 1) ?? 1;
    const text = await readText(file).catch((err: unknown) => {
      throw fsError('read', file, err);
    });
    const s = deriveFromSpec(parseSpec(text, file), file);
    const shapes = shapeArgs({ input: s.input, outputs: s.outputs ?? [] }, maxBatch);
    const norm = tensorNormalisation(s.input.mean, s.input.depth);
    for (const w of s.warnings) ctx.out.info(`warning: ${formatWarning(w)}`);
    ctx.out.result({ ...s, converter: { maxBatch, ...shapes } });
    const n = s.nmsPlugin;
    const o = s.outputs ? shapes.o : 'unknown (network not recognised)';
    ctx.out.print(
      [
        `network:  ${s.network ?? 'unknown'}${s.arch ? ` (${s.arch}${s.nlayers ? ` ${s.nlayers}` : ''})` : ''}`,
        `layout:   ${s.layout ? LAYOUTS[s.layout] : 'unknown'}`,
        `input:    ${s.input.name} ${s.input.channels}x${s.input.height}x${s.input.width} ${s.input.colorOrder} ${s.input.depth}-bit, mean [${s.input.mean.join(', ')}]`,
        ...(s.input.depth === 16 ? [`tensor:   8-bit images widened ×256: (x − [${norm.mean.join(', ')}]) × ${norm.scale}`] : []),
        `classes:  ${s.classes.map((c, i) => `${i} ${c}`).join(', ') || '(none)'}`,
        `nms:      ${s.nms ? `confidence ${s.nms.confidenceThreshold}, iou ${s.nms.iouThreshold}, top_k ${s.nms.topK}` : '(no nms_config)'}`,
        ...(n
          ? [
              `BatchedNMS (as tao export sets it): shareLocation ${n.shareLocation}, backgroundLabelId ${n.backgroundLabelId}, numClasses ${n.numClasses}, topK ${n.topK}, keepTopK ${n.keepTopK}, scoreThreshold ${n.scoreThreshold}, iouThreshold ${n.iouThreshold}, clipBoxes ${n.clipBoxes}, isNormalized ${n.isNormalized}, scoreBits ${n.scoreBits}`,
            ]
          : []),
        ...(s.anchors ? [`anchors:  big ${s.anchors.big.length}, mid ${s.anchors.mid.length}, small ${s.anchors.small.length}`] : []),
        `tao-converter: -d ${shapes.d} (UFF .etlt) | -p ${shapes.p} (ONNX .etlt), -o ${o}, -i ${shapes.i}`,
        `trtexec:  --minShapes=${shapes.minShapes} --optShapes=${shapes.optShapes} --maxShapes=${shapes.maxShapes}`,
      ].join('\n'),
    );
  },
};

import { readText } from '../../platform/fs.js';
import { fsError } from '../../platform/fs.js';
import { parseSpec } from '../../models/spec-parse.js';
import { deriveFromSpec } from '../../models/spec-derive.js';
import type { CommandSpec } from '../types.js';

export const specShowCommand: CommandSpec = {
  path: ['spec', 'show'],
  summary: 'Parse a TLT/TAO experiment spec and show what the agent derives from it.',
  description: 'Input dims (-d C,H,W), output nodes, classes (sorted unique target_class_mapping values = class ids), NMS, image mean, arch/nlayers.',
  positionals: [{ name: 'SPEC', required: true, description: 'Experiment spec (protobuf text).' }],
  examples: ['jetson-agent spec show yolo_retrain_resnet18_kitti.txt --json'],
  async run(ctx) {
    const file = ctx.positionals[0] ?? '';
    const text = await readText(file).catch((err: unknown) => {
      throw fsError('read', file, err);
    });
    const s = deriveFromSpec(parseSpec(text, file), file);
    ctx.out.result(s);
    ctx.out.print(
      [
        `network:  ${s.network ?? 'unknown'}${s.arch ? ` (${s.arch}${s.nlayers ? ` ${s.nlayers}` : ''})` : ''}`,
        `input:    ${s.input.name} ${s.input.channels}x${s.input.height}x${s.input.width} ${s.input.colorOrder}, mean [${s.input.mean.join(', ')}]`,
        `-d:       ${s.dims}`,
        `-o:       ${s.outputs?.join(',') ?? 'unknown (network not recognised)'}`,
        `classes:  ${s.classes.map((c, i) => `${i} ${c}`).join(', ') || '(none)'}`,
        `nms:      ${s.nms ? `confidence ${s.nms.confidenceThreshold}, iou ${s.nms.iouThreshold}, top_k ${s.nms.topK}` : '(no nms_config)'}`,
      ].join('\n'),
    );
  },
};

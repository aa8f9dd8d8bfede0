import path from 'node:path';
import { UsageError } from '../../core/errors.js';
import { inspectModelFile } from '../../models/etlt-file.js';
import { KNOWN_FAMILIES } from '../../models/families/detect.js';
import { formatTensor } from '../../models/onnx/signature.js';
import { loadKeyFile, loadModelKey, type ModelKey } from '../../models/keyring.js';
import type { CommandSpec } from '../types.js';
import { optString } from './opts.js';

export const modelInspectCommand: CommandSpec = {
  path: ['model', 'inspect'],
  summary: 'Inspect a .etlt/.onnx model: header, payload kind (UFF/ONNX), key check, size, sha256; for .onnx the input/output signature and the detector family.',
  description:
    'With --key-ref (a name in the keyring) or --key-file, decrypts the first 64 KiB and checks that it is a protobuf of the kind the header announces: keyValid false means the key is wrong. The key is never printed.',
  positionals: [{ name: 'FILE', required: true, description: '.etlt or .onnx file.' }],
  options: {
    'key-ref': { type: 'string', arg: 'NAME', description: 'Key name in the keyring (models.keyringPath).' },
    'key-file': { type: 'string', arg: 'FILE', description: 'File holding the key (mode 600).' },
  },
  examples: ['jetson-agent model inspect yolo_resnet18.etlt --key-ref yolo --json'],
  async run(ctx) {
    const ref = optString(ctx, 'key-ref');
    const keyFile = optString(ctx, 'key-file');
    if (ref && keyFile) throw new UsageError('Give --key-ref or --key-file, not both.');
    let key: ModelKey | undefined;
    if (ref) key = await loadModelKey((await ctx.agent()).config.models.keyringPath, ref);
    else if (keyFile) key = await loadKeyFile(keyFile);
    const file = path.resolve(ctx.positionals[0] ?? '');
    const r = await inspectModelFile(file, key);
    ctx.out.result(r);
    ctx.out.print(
      [
        `file:      ${file}`,
        `format:    ${r.format}`,
        `payload:   ${r.payload ?? 'unknown'}`,
        `input:     ${r.inputName ?? '(not stored)'}`,
        `key:       ${r.keyValid === null ? 'not checked' : r.keyValid ? `valid (${key?.name ?? ''})` : `WRONG (${key?.name ?? ''})`}`,
        `size:      ${r.sizeBytes} bytes`,
        `sha256:    ${r.sha256}`,
        ...(r.graph
          ? [
              ...r.graph.inputs.map((t, i) => `${i === 0 ? 'inputs:    ' : '           '}${formatTensor(t)}`),
              ...r.graph.outputs.map((t, i) => `${i === 0 ? 'outputs:   ' : '           '}${formatTensor(t)}`),
              ...Object.entries(r.graph.metadata).map(([k, v], i) => `${i === 0 ? 'metadata:  ' : '           '}${k} = ${v.length > 80 ? `${v.slice(0, 77)}...` : v}`),
              `family:    ${r.graph.family ? `${r.graph.family}: ${r.graph.why ?? ''}${r.graph.classes !== null ? `; ${r.graph.classes} classes` : ''}` : `none recognised (known: ${KNOWN_FAMILIES}); package create refuses it without --family`}`,
            ]
          : []),
      ].join('\n'),
    );
    return r.keyValid === false ? 1 : 0;
  },
};

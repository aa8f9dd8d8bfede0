import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { AgentError } from '../core/errors.js';
import { fsError, readBytes, sha256File, statMaybe } from '../platform/fs.js';
import type { TensorInfoT } from '../core/contracts/detector.js';
import { readOnnxSignature } from './onnx/signature.js';
import { detectFamily } from './families/detect.js';
import { openReadStream, readHead, readRange } from '../platform/fs-stream.js';
import { ETLT_MAX_NAME_BYTES, deriveEtltKey, etltDecipher, parseEtltHeader, type EtltHeader, type EtltPayload } from './etlt.js';
import { looksLikeProtobuf } from './protobuf-sniff.js';

/** How much plaintext the key check decrypts: enough for several protobuf fields, milliseconds of work. */
const KEY_CHECK_BYTES = 64 * 1024;

export type ModelFileFormat = 'etlt' | 'onnx';

export interface ModelInspection {
  readonly format: ModelFileFormat;
  readonly payload: EtltPayload | null;
  readonly inputName: string | null;
  /** null: no key given (or not an .etlt). */
  readonly keyValid: boolean | null;
  readonly sizeBytes: number;
  readonly sha256: string;
  /** .onnx only: the graph's signature and the detector family read from it (null: none fits). */
  readonly graph?: {
    readonly inputs: readonly TensorInfoT[];
    readonly outputs: readonly TensorInfoT[];
    readonly metadata: Readonly<Record<string, string>>;
    readonly family: string | null;
    readonly why: string | null;
    readonly classes: number | null;
  };
}

async function sizeOf(file: string): Promise<number> {
  let st;
  try {
    st = await statMaybe(file);
  } catch (err) {
    throw fsError('read', file, err);
  }
  if (!st?.isFile()) throw new AgentError('FS_ERROR', `Model file ${file} does not exist or is not a regular file.`, { hint: 'Check the path.' });
  return st.size;
}

export async function readEtltHeader(file: string): Promise<{ header: EtltHeader; sizeBytes: number }> {
  const sizeBytes = await sizeOf(file);
  const head = await readHead(file, 20 + ETLT_MAX_NAME_BYTES);
  return { header: parseEtltHeader(head, sizeBytes), sizeBytes };
}

/** Decrypt the first bytes and check that they look like the payload the header announces. */
export async function etltKeyMatches(file: string, key: string): Promise<boolean> {
  const { header } = await readEtltHeader(file);
  const cipherPrefix = await readRange(file, header.payloadOffset, Math.min(KEY_CHECK_BYTES, header.payloadBytes));
  const d = etltDecipher(await deriveEtltKey(key), header.nonce);
  const plain = Buffer.concat([d.update(cipherPrefix), d.final()]);
  return looksLikeProtobuf(plain, header.payloadBytes, header.payload);
}

/** Throw ETLT_BAD_KEY unless the key decrypts the file to its announced payload kind. */
export async function assertEtltKey(file: string, key: string, keyName: string): Promise<EtltHeader> {
  const { header } = await readEtltHeader(file);
  if (!(await etltKeyMatches(file, key))) {
    throw new AgentError('ETLT_BAD_KEY', `${path.basename(file)} does not decrypt to a ${header.payload.toUpperCase()} model with key "${keyName}".`, {
      hint: 'Use the key given to tlt-export / tao export (NGC samples use nvidia_tlt or tlt_encode) and fix that keyring entry.',
      details: { keyRef: keyName, payload: header.payload },
    });
  }
  return header;
}

/** Stream-decrypt the whole payload into memory (off-Jetson ONNX path: the model must be parsed anyway). */
export async function decryptEtlt(file: string, key: string): Promise<{ header: EtltHeader; plain: Buffer }> {
  const { header } = await readEtltHeader(file);
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  await pipeline(openReadStream(file, header.payloadOffset), etltDecipher(await deriveEtltKey(key), header.nonce), sink);
  return { header, plain: Buffer.concat(chunks) };
}

export function formatFromName(file: string): ModelFileFormat | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.etlt') return 'etlt';
  if (ext === '.onnx') return 'onnx';
  return undefined;
}

/** `jetson-agent model inspect`: header, payload kind, key check, size and sha256. */
export async function inspectModelFile(file: string, key?: { name: string; value: string }): Promise<ModelInspection> {
  const sizeBytes = await sizeOf(file);
  const sha256 = await sha256File(file);
  let format = formatFromName(file);
  if (format === undefined) {
    const head = await readHead(file, KEY_CHECK_BYTES);
    format = looksLikeProtobuf(head, sizeBytes, 'onnx') ? 'onnx' : 'etlt';
  }
  if (format === 'onnx') {
    const head = await readHead(file, KEY_CHECK_BYTES);
    const ok = looksLikeProtobuf(head, sizeBytes, 'onnx');
    if (!ok) return { format, payload: null, inputName: null, keyValid: null, sizeBytes, sha256 };
    const sig = readOnnxSignature(await readBytes(file));
    const m = detectFamily(sig);
    const graph = { inputs: sig.inputs, outputs: sig.outputs, metadata: sig.metadata, family: m?.family ?? null, why: m?.why ?? null, classes: m?.numClasses ?? null };
    return { format, payload: 'onnx', inputName: sig.inputs[0]?.name ?? null, keyValid: null, sizeBytes, sha256, graph };
  }
  const { header } = await readEtltHeader(file);
  const keyValid = key ? await etltKeyMatches(file, key.value) : null;
  return { format, payload: header.payload, inputName: header.inputName || null, keyValid, sizeBytes, sha256 };
}

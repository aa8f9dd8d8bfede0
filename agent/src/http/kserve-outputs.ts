import { AgentError } from '../core/errors.js';
import type { EngineOutputs } from '../inference/engine.js';
import { floatsToHalf } from '../inference/half.js';

/**
 * KServe v2 response encoding with the binary tensor data extension for outputs (docs/reference/kserve-v2.md "Binary tensor data",
 * Triton docs/protocol/extension_binary_data.md), pure: which outputs the request asked for and
 * whether each comes back as JSON `data` or as raw little-endian bytes after the JSON header.
 */

export interface OutputSelection {
  /** Output names in response order. */
  readonly names: readonly string[];
  /** Names returned as binary chunks. */
  readonly binary: ReadonlySet<string>;
}

interface RequestedOutput {
  name?: unknown;
  parameters?: { binary_data?: unknown } | null;
}

const bad = (msg: string): AgentError => new AgentError('BAD_REQUEST', msg, { hint: 'See docs/http-api.md "KServe v2".' });

/**
 * `outputs` omitted = every output; `binary_data_output: true` on the request makes every output
 * binary unless an output says `binary_data: false`; a raw binary request (header length 0)
 * gets every output binary (the extension's rule: it has no JSON to ask otherwise).
 */
export function selectOutputs(available: readonly string[], request: { outputs?: unknown; parameters?: unknown }, rawBinaryRequest: boolean): OutputSelection {
  if (rawBinaryRequest) return { names: available, binary: new Set(available) };
  const params = request.parameters;
  if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) throw bad('Request "parameters" must be an object.');
  const allBinary = (params as { binary_data_output?: unknown } | undefined)?.binary_data_output;
  if (allBinary !== undefined && typeof allBinary !== 'boolean') throw bad('"binary_data_output" must be true or false.');
  if (request.outputs === undefined) return { names: available, binary: new Set(allBinary ? available : []) };
  if (!Array.isArray(request.outputs) || request.outputs.length === 0) throw bad('"outputs" must be a non-empty list of {name, parameters}.');
  const names: string[] = [];
  const binary = new Set<string>();
  for (const o of request.outputs as RequestedOutput[]) {
    if (!o || typeof o !== 'object' || typeof o.name !== 'string') throw bad('Every requested output needs a "name".');
    if (!available.includes(o.name)) throw bad(`Unknown output ${JSON.stringify(o.name)}; the model's outputs are ${available.join(', ')}.`);
    if (names.includes(o.name)) throw bad(`Output "${o.name}" is requested twice.`);
    const own = o.parameters?.binary_data;
    if (own !== undefined && typeof own !== 'boolean') throw bad(`"binary_data" of output "${o.name}" must be true or false.`);
    names.push(o.name);
    if (own ?? allBinary) binary.add(o.name);
  }
  return { names, binary };
}

export interface ResponseHead {
  readonly model_name: string;
  readonly model_version: string;
  readonly id: string;
}

export type EncodedResponse =
  | { readonly kind: 'json'; readonly body: object }
  /** `body` = JSON header (headerLength bytes) + the binary chunks in the order of `outputs`. */
  | { readonly kind: 'binary'; readonly body: Buffer; readonly headerLength: number };

export function encodeInferResponse(head: ResponseHead, tensors: EngineOutputs, sel: OutputSelection): EncodedResponse {
  const chunks: Buffer[] = [];
  const outputs = sel.names.map((name) => {
    const t = tensors[name];
    if (!t) throw new AgentError('INTERNAL', `The model produced no output "${name}".`);
    // The graph's own datatype (FP16, INT64 … arrive converted to float32/int32, values kept).
    const datatype = t.datatype ?? (t.data instanceof Int32Array ? 'INT32' : 'FP32');
    const base = { name, shape: t.dims, datatype };
    if (!sel.binary.has(name)) return { ...base, data: datatype === 'BOOL' ? Array.from(t.data, (v) => v !== 0) : Array.from(t.data) };
    // Typed arrays are host-endian; Jetson (aarch64) and x86 are little-endian, as the extension requires.
    const bytes = rawBytes(t.data, datatype);
    chunks.push(bytes);
    return { ...base, parameters: { binary_data_size: bytes.length } };
  });
  const json = { ...head, outputs };
  if (chunks.length === 0) return { kind: 'json', body: json };
  const header = Buffer.from(JSON.stringify(json), 'utf8');
  return { kind: 'binary', body: Buffer.concat([header, ...chunks]), headerLength: header.length };
}

/** The tensor's bytes in its KServe datatype (binary extension: raw little-endian elements). */
function rawBytes(data: Float32Array | Int32Array, datatype: string): Buffer {
  const view = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  switch (datatype) {
    case 'FP16':
      return view(floatsToHalf(data));
    case 'INT64':
      return view(BigInt64Array.from(data, (v) => BigInt(v)));
    case 'UINT64':
      return view(BigUint64Array.from(data, (v) => BigInt(v)));
    case 'INT8':
      return view(Int8Array.from(data));
    case 'UINT8':
    case 'BOOL':
      return view(Uint8Array.from(data));
    case 'INT16':
      return view(Int16Array.from(data));
    case 'UINT16':
      return view(Uint16Array.from(data));
    case 'FP64':
      return view(Float64Array.from(data));
    default:
      return view(data);
  }
}

import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { AgentError } from '../../core/errors.js';
import type { ModelRuntime } from '../../inference/model-runtime.js';
import type { ServerDeps } from '../server.js';
import { withDeadline } from '../server.js';
import { encodeInferResponse, selectOutputs } from '../kserve-outputs.js';

/**
 * KServe v2 / Open Inference Protocol subset (docs/reference/kserve-v2.md "Endpoints and JSON" and "Binary tensor data"): health, server and model
 * metadata, model readiness, and infer with JSON tensors or the binary tensor extension for
 * the input and the outputs (kserve-outputs.ts). Outputs are the four BatchedNMS tensors
 * (docs/reference/yolov3-io.md "BatchedNMS outputs"), whichever backend ran the model, or the subset the request names.
 */
interface InferInput {
  name?: unknown;
  shape?: unknown;
  datatype?: unknown;
  data?: unknown;
  parameters?: { binary_data_size?: unknown };
}
interface InferRequest {
  id?: unknown;
  inputs?: unknown;
  outputs?: unknown;
  parameters?: unknown;
}

const OUTPUT_NAMES = ['BatchedNMS', 'BatchedNMS_1', 'BatchedNMS_2', 'BatchedNMS_3'] as const;
const OUTPUTS = (K: number) => [
  { name: 'BatchedNMS', datatype: 'INT32', shape: [-1, 1] },
  { name: 'BatchedNMS_1', datatype: 'FP32', shape: [-1, K, 4] },
  { name: 'BatchedNMS_2', datatype: 'FP32', shape: [-1, K] },
  { name: 'BatchedNMS_3', datatype: 'FP32', shape: [-1, K] },
];

/**
 * Outputs: TAO BatchedNMS models give the plugin's four tensors whichever backend ran them;
 * other families give the graph's own outputs with their true datatypes (as read at package
 * create). The input is taken as FP32 (float16 graphs get it converted).
 */
function outputsOf(rt: ModelRuntime): { name: string; datatype: string; shape: number[] }[] {
  const m = rt.servable.model;
  if (rt.family === 'tao-batched-nms') return OUTPUTS(rt.parts.nms?.keepTopK ?? m.nms.topK);
  const sig = m.signature?.outputs ?? [];
  return rt.parts.outputNames.map((name) => {
    const s = sig.find((o) => o.name === name);
    return { name, datatype: s?.datatype ?? 'FP32', shape: s ? [-1, ...s.shape.slice(1)] : [-1] };
  });
}

function metadata(rt: ModelRuntime): object {
  const m = rt.servable.model;
  return {
    name: m.name,
    versions: [m.version],
    platform: rt.servable.kind === 'tensorrt' ? 'tensorrt_plan' : 'onnxruntime_onnx',
    inputs: [{ name: m.input.name, datatype: 'FP32', shape: [-1, m.input.channels, m.input.height, m.input.width] }],
    outputs: outputsOf(rt),
  };
}

const bad = (msg: string): AgentError => new AgentError('BAD_REQUEST', msg, { hint: 'See docs/http-api.md "KServe v2".' });

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * KServe `data` into `out`: a flat array, or arrays nested no deeper than the shape's rank
 * (Open Inference Protocol: "the tensor contents … flattened or nested"). Walked with an explicit
 * stack, so a hostile nesting depth is a 400, not a stack overflow.
 */
function readData(data: unknown, out: Float32Array, rank: number): void {
  if (!Array.isArray(data)) throw bad('Input data must be an array of numbers (flat, or nested like the shape).');
  let n = 0;
  const stack: { readonly arr: readonly unknown[]; i: number }[] = [{ arr: data, i: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { readonly arr: readonly unknown[]; i: number };
    if (top.i >= top.arr.length) {
      stack.pop();
      continue;
    }
    const v = top.arr[top.i++];
    if (typeof v === 'number' && Number.isFinite(v)) {
      if (n >= out.length) throw bad(`Input data has more than the ${out.length} values its shape needs.`);
      out[n++] = v;
    } else if (Array.isArray(v)) {
      if (stack.length >= rank) throw bad(`Input data is nested deeper than the ${rank} dimensions of its shape.`);
      stack.push({ arr: v, i: 0 });
    } else throw bad('Input data must contain only finite numbers.');
  }
  if (n !== out.length) throw bad(`Input data has ${n} values; shape needs ${out.length}.`);
}

/** Parses a JSON or binary-extension body into one FP32 input tensor. */
function readInput(rt: ModelRuntime, body: unknown, headerLen: string | undefined): { tensor: Float32Array; batch: number; req: InferRequest; raw: boolean } {
  const m = rt.servable.model.input;
  const per = m.channels * m.height * m.width;
  let req: InferRequest;
  let binary: Buffer | undefined;
  let raw = false;
  if (Buffer.isBuffer(body)) {
    if (headerLen === undefined) throw bad('A binary body needs the Inference-Header-Content-Length header.');
    // Digits only: Number('') and Number(' ') are 0, which would turn a malformed header into a raw-tensor request.
    const n = /^[0-9]{1,10}$/.test(headerLen) ? Number(headerLen) : NaN;
    if (!Number.isInteger(n) || n > body.length) {
      throw bad(`Invalid Inference-Header-Content-Length ${JSON.stringify(headerLen)}: it must be the byte length of the JSON header (0 for a raw tensor), at most the body length ${body.length}.`);
    }
    if (n === 0) {
      // Raw binary request: one input, batch 1 (docs/reference/kserve-v2.md "Binary tensor data").
      req = { inputs: [{ name: m.name, shape: [1, m.channels, m.height, m.width], datatype: 'FP32', parameters: { binary_data_size: body.length } }] };
      binary = body;
      raw = true;
    } else {
      let header: unknown;
      try {
        header = JSON.parse(body.subarray(0, n).toString('utf8'));
      } catch {
        throw bad('The JSON header of the binary request is not valid JSON.');
      }
      if (!isRecord(header)) throw bad('The JSON header of the binary request must be an object (a KServe v2 inference request).');
      req = header;
      binary = body.subarray(n);
    }
  } else if (isRecord(body)) {
    req = body;
  } else throw bad('The body must be a KServe v2 inference request (a JSON object).');

  if (!Array.isArray(req.inputs) || req.inputs.length !== 1) throw bad('Exactly one input tensor is expected.');
  const first: unknown = req.inputs[0];
  if (!isRecord(first)) throw bad('The input tensor must be an object {name, shape, datatype, data | parameters.binary_data_size}.');
  const inp = first as InferInput;
  if (inp.parameters !== undefined && !isRecord(inp.parameters)) throw bad('Input parameters must be an object.');
  if (inp.name !== m.name) throw bad(`Unknown input ${JSON.stringify(inp.name)}; the model's input is "${m.name}".`);
  if (inp.datatype !== 'FP32') throw bad(`Input datatype must be FP32 (got ${JSON.stringify(inp.datatype)}).`);
  const shape = inp.shape;
  if (
    !Array.isArray(shape) ||
    shape.length !== 4 ||
    !shape.every((d) => Number.isInteger(d)) ||
    shape[1] !== m.channels ||
    shape[2] !== m.height ||
    shape[3] !== m.width ||
    shape[0] < 1 ||
    shape[0] > rt.parts.engine.info.maxBatch
  ) {
    throw bad(`Input shape must be [n, ${m.channels}, ${m.height}, ${m.width}] with 1 ≤ n ≤ ${rt.parts.engine.info.maxBatch} (got ${JSON.stringify(shape)}).`);
  }
  const batch = shape[0] as number;
  // Every value is overwritten below, so a pooled (reused) tensor is fine.
  const tensor = rt.parts.pool?.take(batch * per) ?? new Float32Array(batch * per);
  const size = inp.parameters?.binary_data_size;
  if (size !== undefined) {
    if (!binary) throw bad('binary_data_size given but the body is JSON.');
    if (size !== tensor.byteLength || binary.length < tensor.byteLength) throw bad(`Binary input must be ${tensor.byteLength} bytes (little-endian FP32), got ${binary.length}.`);
    // Copy into an aligned buffer we own (it is transferred to the engine).
    new Uint8Array(tensor.buffer).set(binary.subarray(0, tensor.byteLength));
  } else {
    readData(inp.data, tensor, shape.length);
  }
  return { tensor, batch, req, raw };
}

export function kserveRoutes(deps: ServerDeps): FastifyPluginAsync {
  const svc = deps.service;
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  return async (app) => {
    app.get('/v2/health/live', (_req, reply) => reply.code(200).send());
    app.get('/v2/health/ready', (_req, reply) => reply.code(svc.ready ? 200 : 503).send());
    app.get('/v2', () => ({ name: 'jetson-edge-agent', version: deps.version, extensions: ['binary_tensor_data'] }));

    const meta = (p: { name: string; version?: string }) => metadata(svc.pick(p.name, p.version));
    app.get<{ Params: { name: string } }>('/v2/models/:name', (req) => meta(req.params));
    app.get<{ Params: { name: string; version: string } }>('/v2/models/:name/versions/:version', (req) => meta(req.params));

    const ready = (p: { name: string; version?: string }, reply: FastifyReply) => {
      svc.pick(p.name, p.version);
      return reply.code(200).send();
    };
    app.get<{ Params: { name: string } }>('/v2/models/:name/ready', (req, reply) => ready(req.params, reply));
    app.get<{ Params: { name: string; version: string } }>('/v2/models/:name/versions/:version/ready', (req, reply) => ready(req.params, reply));

    const infer = async (p: { name: string; version?: string }, body: unknown, headerLen: string | undefined, reply: FastifyReply) => {
      const encoded = await withDeadline(
        deps.limits.requestTimeoutMs,
        svc.infer(p.name, p.version, async (rt) => {
          const { tensor, batch, req, raw } = readInput(rt, body, headerLen);
          // Validated before inference: a bad output request costs no model run.
          const tao = rt.family === 'tao-batched-nms';
          const sel = selectOutputs(tao ? OUTPUT_NAMES : rt.parts.outputNames, req, raw);
          const out = tao ? await rt.inferBatchedNms(tensor, batch) : await rt.inferRaw(tensor, batch);
          return encodeInferResponse({ model_name: rt.name, model_version: rt.version, id: typeof req.id === 'string' ? req.id : '' }, out, sel);
        }),
      );
      if (encoded.kind === 'json') return reply.send(encoded.body);
      // docs/reference/kserve-v2.md "Binary tensor data": the header is required on responses that carry binary data.
      return reply.header('inference-header-content-length', String(encoded.headerLength)).type('application/octet-stream').send(encoded.body);
    };
    const hdr = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h[0] : h);
    app.post<{ Params: { name: string } }>('/v2/models/:name/infer', (req, reply) => infer(req.params, req.body, hdr(req.headers['inference-header-content-length']), reply));
    app.post<{ Params: { name: string; version: string } }>('/v2/models/:name/versions/:version/infer', (req, reply) =>
      infer(req.params, req.body, hdr(req.headers['inference-header-content-length']), reply),
    );
  };
}

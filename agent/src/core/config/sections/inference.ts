import { Type } from '@sinclair/typebox';

export const InferenceSection = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Serve the local HTTP inference endpoint.' }),
    host: Type.String({ default: '127.0.0.1', description: 'Bind address.' }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'Bind port (0 = any free port).' }),
    token: Type.String({ default: '', secret: true, description: 'Bearer token required when bound to a non-loopback address.' }),
    bodyLimitBytes: Type.Integer({ default: 16777216, minimum: 1024, description: 'Largest request body (16 MiB).' }),
    maxPixels: Type.Integer({ default: 50000000, minimum: 1, description: 'Largest decoded image (width × height).' }),
    requestTimeoutMs: Type.Integer({
      default: 30000,
      minimum: 100,
      description: 'Per-request deadline, twice: a client must send its headers and body within it (else 408 HTTP_REQUEST_TIMEOUT and the connection is closed), and the handling of a received request must finish within it (else 504 TIMEOUT).',
    }),
    maxInflightBodyBytes: Type.Integer({
      default: 67108864,
      minimum: 1024,
      description: 'Request-body bytes held at once by all requests being received or handled (a request reserves its Content-Length, a chunked one bodyLimitBytes); beyond it requests get 503 BODY_BUDGET_EXHAUSTED. At least bodyLimitBytes.',
    }),
    maxQueue: Type.Integer({ default: 32, minimum: 1, description: 'Requests waiting for the engine before 503 + Retry-After.' }),
    workers: Type.Integer({ default: 1, minimum: 1, description: 'ONNX Runtime worker threads (one session each).' }),
    intraOpThreads: Type.Integer({ default: 0, minimum: 0, description: 'ONNX Runtime intra-op threads per worker; 0 = (cores − 1) / workers, at least 1.' }),
    // 0 = Triton's default (docs/reference/serving-runtime.md "Dynamic batching": max_queue_delay 0, "don't wait"): batches still form
    // from what queues while the engine is busy, and a lone request is not held back.
    batchDelayMs: Type.Number({ default: 0, minimum: 0, description: 'How long a request arriving at an idle engine waits for others to form a batch (0 = none; batches still form from requests that queue while the engine is busy).' }),
    model: Type.String({ default: '', pattern: '^$|^[a-z0-9._-]+@[A-Za-z0-9._+-]+$', description: 'Model to activate at start, NAME@VERSION; empty = the demo model (when demoModel is true). After a switch (deployment, rollback, models activate) the agent restarts with the model that served last, until this value is changed.' }),
    demoModel: Type.Boolean({ default: true, description: 'Serve a generated demo model when no model is active (detections are meaningless).' }),
    maxBatch: Type.Integer({ default: 0, minimum: 0, maximum: 64, description: 'Largest batch the dynamic batcher forms (capped by the model package maxBatch); 0 = by backend: 4 for TensorRT engines, 1 for ONNX Runtime on the CPU, where a batch runs no faster than its images one by one (docs/benchmarks.md).' }),
    maxDetections: Type.Integer({ default: 100, minimum: 1, maximum: 4096, description: 'Default cap on detections per image (query maxDetections overrides).' }),
    drainTimeoutMs: Type.Integer({ default: 30000, minimum: 0, description: 'After a model switch, how long in-flight requests may keep the old model before it is unloaded anyway.' }),
    trtRunner: Type.String({ default: '', description: 'Path of a trt-runner binary for TensorRT servables; empty = the runner recorded by `jetson-agent runner build` (TensorRT servables are refused when none is built).' }),
    runnerTimeoutMs: Type.Integer({ default: 10000, minimum: 100, description: 'trt-runner: per-inference deadline before the runner is restarted.' }),
    swapMode: Type.Union([Type.Literal('beside'), Type.Literal('replace')], {
      default: 'beside',
      description: 'Hot swap: beside = load the new model next to the old (no gap); replace = unload first, for boards where two models do not fit: requests arriving during the gap wait (inference.swapHoldMs) and are answered by the model that serves next.',
    }),
    // Default: a TensorRT engine on a Nano is a trt-runner start, CUDA context and engine
    // deserialisation (seconds), then warm-up and golden images; 15 s leaves room for that and
    // stays under requestTimeoutMs (30 s), so a held request gets the 503 with Retry-After, not
    // the 504. Not measured on a board yet (docs/hardware-validation.md says how).
    swapHoldMs: Type.Integer({
      default: 15000,
      minimum: 0,
      description: 'swapMode replace: how long a request arriving while no model is loaded (drain + unload + load + warm-up + golden check, or the old model reloading after a refused one) waits before it answers 503 MODEL_NOT_READY + Retry-After; at most inference.maxQueue requests wait, more answer 503 OVERLOADED. 0 = no waiting (503 at once). Keep it below inference.requestTimeoutMs.',
    }),
    warmupRuns: Type.Integer({ default: 3, minimum: 0, description: 'Inference runs before a model is switched in.' }),
    console: Type.Boolean({ default: true, description: 'Serve the board console at GET / (read-only views; activate and rollback need inference.token, docs/console.md).' }),
    consoleSampleSec: Type.Integer({ default: 2, minimum: 1, maximum: 60, description: 'While a console is open, how often the board is sampled for its live charts (the MQTT health period is unchanged).' }),
    consoleHistorySec: Type.Integer({ default: 600, minimum: 60, maximum: 3600, description: 'How much board and serving history the console charts keep in memory.' }),
  },
  { default: {}, additionalProperties: false },
);

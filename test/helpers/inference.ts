import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '../../agent/src/core/log.js';
import type { Servable } from '../../agent/src/core/contracts/model.js';
import { defaultEngineFactory, type EngineFactory } from '../../agent/src/inference/engine-factory.js';
import { generatedServable } from '../../agent/src/inference/demo-model.js';
import { InferenceMetrics } from '../../agent/src/inference/metrics.js';
import { InferenceService, type InferenceServiceOptions } from '../../agent/src/inference/service.js';
import type { ServableResolver } from '../../agent/src/inference/resolver.js';
import { buildServer, type HttpLimits } from '../../agent/src/http/server.js';

/** Generated models held in memory for tests (seeded weights, TAO YOLOv3 interface). */
export class ModelShelf {
  readonly bytes = new Map<string, Uint8Array>();
  readonly servables: Servable[] = [];
  add(name: string, version: string, o: { height?: number; width?: number; seed?: number; maxBatch?: number; extraConvs?: number } = {}): Servable {
    const g = generatedServable({ name, version, height: o.height ?? 96, width: o.width ?? 160, seed: o.seed ?? 1, maxBatch: o.maxBatch ?? 8, extraConvs: o.extraConvs ?? 0 });
    this.bytes.set(g.servable.kind === 'onnxruntime' ? g.servable.onnxPath : '', g.bytes);
    this.servables.push(g.servable);
    return g.servable;
  }
  resolver(): ServableResolver {
    return async (name, version) => {
      const s = this.servables.find((x) => x.model.name === name && x.model.version === version);
      if (!s) throw Object.assign(new Error('unknown'), { code: 'MODEL_NOT_FOUND' });
      return { servable: s };
    };
  }
}

export interface Stack {
  readonly app: FastifyInstance;
  readonly service: InferenceService;
  readonly metrics: InferenceMetrics;
  readonly shelf: ModelShelf;
  close(): Promise<void>;
}

export function makeStack(
  o: {
    service?: Partial<Omit<InferenceServiceOptions, 'engineFactory' | 'metrics' | 'log'>>;
    limits?: Partial<HttpLimits>;
    workers?: number;
    intraOpThreads?: number;
    shelf?: ModelShelf;
    trtRunner?: string;
    /** Wraps the real engine factory (e.g. gatedLoad below). */
    wrapFactory?: (f: EngineFactory) => EngineFactory;
  } = {},
): Stack {
  const shelf = o.shelf ?? new ModelShelf();
  const metrics = new InferenceMetrics();
  const factory = defaultEngineFactory({ workers: o.workers ?? 1, intraOpThreads: o.intraOpThreads ?? 1, maxBatch: 0, log: silentLogger, inMemory: shelf.bytes, trtRunner: o.trtRunner ?? '', runnerTimeoutMs: 2000 });
  const service = new InferenceService({
    engineFactory: o.wrapFactory ? o.wrapFactory(factory) : factory,
    metrics,
    log: silentLogger,
    maxBatch: 4,
    batchDelayMs: 2,
    maxQueue: 32,
    maxPixels: 50_000_000,
    warmupRuns: 1,
    maxDetections: 100,
    drainTimeoutMs: 30_000,
    ...o.service,
  });
  const app = buildServer({
    service,
    metrics,
    resolveServable: shelf.resolver(),
    limits: { bodyLimitBytes: 16 * 1024 * 1024, requestTimeoutMs: 30_000, token: '', maxDetections: 100, ...o.limits },
    version: 'test',
  });
  return {
    app,
    service,
    metrics,
    shelf,
    close: async () => {
      await app.close();
      await service.close();
    },
  };
}

/** A noisy JPEG (high entropy, like a real photo) of the given size. */
export async function noisyJpeg(width: number, height: number, seed = 1): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < raw.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    raw[i] = ((i % (width * 3)) / 12 + (s >>> 26)) & 0xff;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

/**
 * Holds the real engine's load() of one model version until the test opens the gate, so a test
 * can act while a swap is provably still loading (no timing guesses). Everything else is the
 * real engine's.
 */
export function gatedLoad(version: string): { wrap: (f: EngineFactory) => EngineFactory; reached: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  let reach!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  const wrap =
    (f: EngineFactory): EngineFactory =>
    async (servable, options) => {
      const built = await f(servable, options);
      if (servable.model.version !== version) return built;
      const e = built.engine;
      const engine = {
        info: e.info,
        load: async () => {
          reach();
          await opened;
          await e.load();
        },
        warmup: (runs: number) => e.warmup(runs),
        infer: (input: Float32Array, batch: number) => e.infer(input, batch),
        unload: () => e.unload(),
      };
      return { ...built, engine };
    };
  return { wrap, reached, open };
}

/** Resolves once `cond()` holds, checking every few milliseconds (a condition, not a fixed sleep). */
export async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

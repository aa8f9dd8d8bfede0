import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '../../agent/src/core/log.js';
import type { Servable } from '../../agent/src/core/contracts/model.js';
import { defaultEngineFactory } from '../../agent/src/inference/engine-factory.js';
import { generatedServable } from '../../agent/src/inference/demo-model.js';
import { InferenceMetrics } from '../../agent/src/inference/metrics.js';
import { InferenceService, type InferenceServiceOptions } from '../../agent/src/inference/service.js';
import type { ServableResolver } from '../../agent/src/inference/resolver.js';
import { buildServer, type HttpLimits } from '../../agent/src/http/server.js';
import type { ConsoleDeps } from '../../agent/src/http/console/deps.js';

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
    console?: ConsoleDeps;
  } = {},
): Stack {
  const shelf = o.shelf ?? new ModelShelf();
  const metrics = new InferenceMetrics();
  const service = new InferenceService({
    engineFactory: defaultEngineFactory({ workers: o.workers ?? 1, intraOpThreads: o.intraOpThreads ?? 1, maxBatch: 0, log: silentLogger, inMemory: shelf.bytes, trtRunner: o.trtRunner ?? '', runnerTimeoutMs: 2000 }),
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
    ...(o.console ? { console: o.console } : {}),
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

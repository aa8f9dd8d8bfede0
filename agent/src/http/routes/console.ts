import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { InferenceService } from '../../inference/service.js';
import { ConsoleAssets, type Asset } from '../console/assets.js';
import type { ConsoleDeps } from '../console/deps.js';
import { consoleHeaders } from '../console/headers.js';
import type { ConsoleHub } from '../console/hub.js';

/**
 * The board console (docs/console.md): the page and its assets at `/` and `/console/*` (open:
 * they carry no data), and `GET /v1/console/state`, the model panel's data (guarded like every
 * other route: with inference.token set it needs the token). Live data: console-events.ts.
 */
export interface ConsoleRouteDeps {
  readonly service: InferenceService;
  readonly console: ConsoleDeps;
  readonly hub: ConsoleHub;
  readonly tokenConfigured: boolean;
  readonly version: string;
}

/** The model serving now, as the model panel shows it; null when none is active. */
export function activeModelDetails(svc: InferenceService): Record<string, unknown> | null {
  if (!svc.status().active) return null;
  let rt;
  try {
    rt = svc.pick();
  } catch {
    return null;
  }
  const s = rt.servable;
  const m = s.model;
  return {
    name: m.name,
    version: m.version,
    family: m.network,
    format: m.format,
    input: { width: m.input.width, height: m.input.height, channels: m.input.channels, colorOrder: m.input.colorOrder, resize: m.input.resize },
    classes: m.classes,
    backend: s.kind,
    // ONNX Runtime on the CPU computes in FP32 whatever the package asks TensorRT for.
    precision: s.kind === 'tensorrt' ? m.precision : 'fp32',
    maxBatch: rt.parts.engine.info.maxBatch,
    threshold: m.nms.confidenceThreshold,
  };
}

export function consoleRoutes(d: ConsoleRouteDeps): FastifyPluginAsync {
  const assets = new ConsoleAssets(d.console.assetsDir);
  const send = (reply: FastifyReply, a: Asset, ifNoneMatch: string | undefined): FastifyReply => {
    consoleHeaders(reply).header('etag', a.etag).header('cache-control', 'no-cache');
    if (ifNoneMatch === a.etag) return reply.code(304).send();
    return reply.type(a.type).send(a.body);
  };
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  return async (app) => {
    app.get('/', async (req, reply) => send(reply, (await assets.get('index.html'))!, req.headers['if-none-match']));
    app.get<{ Params: { file: string } }>('/console/:file', async (req, reply) => {
      const a = await assets.get(req.params.file);
      if (!a) return reply.callNotFound();
      return send(reply, a, req.headers['if-none-match']);
    });

    app.get('/v1/console/state', async () => {
      const status = d.service.status();
      // Read before the history, so a write in between shows as a newer revision in the next tick.
      const historyRev = d.console.historyRevision();
      const [stored, history] = await Promise.all([d.console.storedModels(), d.console.history()]);
      const is = (r: { name: string; version: string } | null, m: { name: string; version: string }): boolean => r?.name === m.name && r.version === m.version;
      const models = [
        ...d.console.builtInModels.map((m) => ({ name: m.name, version: m.version, builtIn: true as const })),
        ...stored.map((m) => ({ ...m, builtIn: false as const })),
      ].map((m) => ({ ...m, active: is(status.active, m), previous: is(status.previous, m) }));
      return {
        agent: { version: d.version, ...d.console.device() },
        status,
        model: activeModelDetails(d.service),
        models,
        history: [...history].reverse(),
        auth: { tokenConfigured: d.tokenConfigured },
        sampleSec: d.console.sampleSec,
        historySec: d.console.historySec,
        historyRev,
      };
    });
  };
}

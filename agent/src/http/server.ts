import Fastify, { type FastifyInstance } from 'fastify';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { InferenceMetrics } from '../inference/metrics.js';
import type { InferenceService } from '../inference/service.js';
import type { ServableResolver } from '../inference/resolver.js';
import { BodyBudget } from './body-budget.js';
import { clientErrorHandler } from './client-errors.js';
import { sendError, toHttpError } from './errors.js';
import { detectRoutes } from './routes/detect.js';
import { kserveRoutes } from './routes/kserve.js';
import { opsRoutes } from './routes/ops.js';
import { consoleRoutes } from './routes/console.js';
import { CONSOLE_EVENTS_ROUTE, consoleEventsRoutes } from './routes/console-events.js';
import type { ConsoleDeps } from './console/deps.js';
import { ConsoleHub } from './console/hub.js';
import { crossOriginRefusal } from './csrf.js';

export interface HttpLimits {
  readonly bodyLimitBytes: number;
  /** Receiving headers + body (Node's server timeouts), and separately the handling (withDeadline). */
  readonly requestTimeoutMs: number;
  /** Request-body bytes held at once by requests being received or handled (body-budget.ts); ≥ bodyLimitBytes. */
  readonly maxInflightBodyBytes?: number;
  /** Bearer token; when non-empty every route except liveness/readiness requires it. */
  readonly token: string;
  readonly maxDetections: number;
}

export interface ServerDeps {
  readonly service: InferenceService;
  readonly metrics: InferenceMetrics;
  readonly resolveServable: ServableResolver;
  readonly limits: HttpLimits;
  readonly version: string;
  readonly log?: Logger;
  /** The board console (GET /); absent = no console routes (inference.console false). */
  readonly console?: ConsoleDeps;
}

const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/v2/health/live', '/v2/health/ready']);

/**
 * Routes open without the token: probes, and the console's page and assets (static files that
 * carry no data; the page asks for the token before it reads anything guarded).
 */
export function isOpenRoute(path: string, consoleOn: boolean): boolean {
  return OPEN_ROUTES.has(path) || (consoleOn && (path === '/' || /^\/console\/[^/]+$/.test(path)));
}

/** The fastify app (STYLE: a factory, never listens; tests use inject() or listen on port 0). */
/**
 * How often Node looks for connections past their request/headers timeout. Node's default is
 * 30 s (https://nodejs.org/api/http.html#httpcreateserveroptions-requestlistener,
 * `connectionsCheckingInterval`), which let a slow client live up to timeout + 30 s; a tenth of
 * the timeout (at most 1 s) keeps the cut-off within 10 % of it.
 */
export function connectionsCheckingIntervalMs(requestTimeoutMs: number): number {
  return Math.max(25, Math.min(1000, Math.floor(requestTimeoutMs / 10)));
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const t = deps.limits.requestTimeoutMs;
  const cap = deps.limits.maxInflightBodyBytes ?? 4 * deps.limits.bodyLimitBytes;
  if (cap < deps.limits.bodyLimitBytes) {
    throw new AgentError('CONFIG_INVALID', `inference.maxInflightBodyBytes (${cap}) is smaller than inference.bodyLimitBytes (${deps.limits.bodyLimitBytes}): no body of the allowed size could ever be received.`, {
      hint: 'Set inference.maxInflightBodyBytes to at least inference.bodyLimitBytes (default: 4 × it).',
    });
  }
  const app = Fastify({
    bodyLimit: deps.limits.bodyLimitBytes,
    requestTimeout: t,
    // Node's headersTimeout defaults to min(60 s, the requestTimeout known when the server is
    // created), which fastify sets only afterwards: pass both, and check often (above).
    http: { requestTimeout: t, headersTimeout: t, connectionsCheckingInterval: connectionsCheckingIntervalMs(t) },
    clientErrorHandler: clientErrorHandler(t),
    return503OnClosing: true,
  });
  const budget = new BodyBudget(cap, deps.limits.bodyLimitBytes);
  const m = deps.metrics;
  // fastify's own request logging stays off (one line per request is noise on a device);
  // failures are logged here.
  const log = deps.log?.child({ module: 'http' });

  // Images and raw tensors arrive as Buffers (fastify parses only JSON and text natively, docs/reference/serving-runtime.md "fastify body parsers").
  app.addContentTypeParser(['image/jpeg', 'image/png', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: deps.limits.bodyLimitBytes }, (_req, body, done) => {
    done(null, body);
  });

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  m.loopDelay.collect(() => loop.percentile(50) / 1e9, { quantile: '0.5' });
  m.loopDelay.collect(() => loop.percentile(99) / 1e9, { quantile: '0.99' });
  m.loopDelay.collect(() => loop.max / 1e9, { quantile: '1' });
  // RSS against what V8 and Buffers hold tells a leak (heap/external grow) from allocator
  // high-water (RSS grows alone): docs/operations.md "Memory".
  for (const kind of ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const) m.memory.collect(() => process.memoryUsage()[kind], { kind });
  app.addHook('onClose', (_app, next) => {
    loop.disable();
    next();
  });

  m.bodyBytes.collect(() => budget.used);
  const started = new WeakMap<object, number>();
  app.addHook('onRequest', (req, reply, next) => {
    const path = req.url.split('?')[0] ?? '';
    // The console's event stream stays open for as long as the page: it is not a request in
    // flight, and its length is not a latency.
    if (path !== CONSOLE_EVENTS_ROUTE) {
      started.set(req, performance.now());
      m.inflight.set(++inflight);
    }
    if (path.startsWith('/v1/admin/')) {
      const refused = crossOriginRefusal(req.headers);
      if (refused) {
        next(refused);
        return;
      }
    }
    if (deps.limits.token && !isOpenRoute(path, deps.console !== undefined) && req.headers.authorization !== `Bearer ${deps.limits.token}`) {
      next(new AgentError('UNAUTHORIZED', 'A valid bearer token is required.', { hint: 'Send Authorization: Bearer <inference.token>.' }));
      return;
    }
    // Before a byte of the body is read: reserve it, or refuse the request now.
    const claim = budget.claimFor(req.headers);
    const release = budget.reserve(claim);
    if (!release) {
      // Close the connection after the answer: Node would otherwise read (and drop) the whole body.
      void reply.header('connection', 'close');
      next(new AgentError('BODY_BUDGET_EXHAUSTED', `Requests being received already hold ${budget.used} of inference.maxInflightBodyBytes (${budget.capBytes}) body bytes; this ${claim}-byte body was not read.`, {
        hint: 'Retry after the Retry-After seconds; raise inference.maxInflightBodyBytes if the board has the memory for more concurrent large bodies.',
      }));
      return;
    }
    // 'close' comes once the response is sent or the connection is gone (timeout, client abort).
    reply.raw.once('close', release);
    next();
  });
  let inflight = 0;
  const done = (req: object, route: string, status: number): void => {
    const t0 = started.get(req);
    if (t0 === undefined) return;
    started.delete(req);
    m.inflight.set(--inflight);
    m.httpRequests.inc({ route, code: String(status) });
    m.httpDuration.observe((performance.now() - t0) / 1000, { route });
  };
  app.addHook('onResponse', (req, reply, next) => {
    done(req, req.routeOptions.url ?? 'unmatched', reply.statusCode);
    next();
  });
  app.addHook('onRequestAbort', (req, next) => {
    done(req, req.routeOptions.url ?? 'unmatched', 499);
    next();
  });

  app.setErrorHandler((err, req, reply) => {
    const e = toHttpError(err);
    m.errors.inc({ code: e.code, route: req.routeOptions.url ?? 'unmatched' });
    if (e.httpStatus >= 500 && e.code !== 'OVERLOADED' && e.code !== 'MODEL_NOT_READY') log?.error({ err: e.toJSON(), route: req.routeOptions.url }, 'request failed');
    return sendError(req, reply, e);
  });
  app.setNotFoundHandler((req, reply) => {
    m.errors.inc({ code: 'ROUTE_NOT_FOUND', route: 'unmatched' });
    return sendError(req, reply, new AgentError('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0] ?? ''}.`, { hint: 'See docs/http-api.md for the routes.' }));
  });

  void app.register(detectRoutes(deps));
  void app.register(kserveRoutes(deps));
  void app.register(opsRoutes(deps));
  if (deps.console) {
    const hub = new ConsoleHub(deps.console, m, () => deps.service.status());
    hub.start();
    app.addHook('onClose', (_app, next) => {
      hub.stop();
      next();
    });
    void app.register(consoleRoutes({ service: deps.service, console: deps.console, hub, tokenConfigured: deps.limits.token !== '', version: deps.version }));
    void app.register(consoleEventsRoutes(hub, { sampleSec: deps.console.sampleSec, historySec: deps.console.historySec }));
  }
  return app;
}

/** Runs `work` with the request deadline (inference.requestTimeoutMs) → TIMEOUT (504). */
export async function withDeadline<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AgentError('TIMEOUT', `The request took longer than ${ms} ms.`, { hint: 'Retry later or raise inference.requestTimeoutMs.' })), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

import Fastify, { type FastifyInstance } from 'fastify';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { AgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { InferenceMetrics } from '../inference/metrics.js';
import type { InferenceService } from '../inference/service.js';
import type { ServableResolver } from '../inference/resolver.js';
import { sendError, toHttpError } from './errors.js';
import { detectRoutes } from './routes/detect.js';
import { kserveRoutes } from './routes/kserve.js';
import { opsRoutes } from './routes/ops.js';

export interface HttpLimits {
  readonly bodyLimitBytes: number;
  readonly requestTimeoutMs: number;
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
}

const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/v2/health/live', '/v2/health/ready']);

/** The fastify app (STYLE: a factory, never listens; tests use inject() or listen on port 0). */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    bodyLimit: deps.limits.bodyLimitBytes,
    requestTimeout: deps.limits.requestTimeoutMs,
    return503OnClosing: true,
  });
  const m = deps.metrics;
  // fastify's own request logging stays off (one line per request is noise on a device);
  // failures are logged here.
  const log = deps.log?.child({ module: 'http' });

  // Images and raw tensors arrive as Buffers (fastify parses only JSON and text natively, serving.md §9).
  app.addContentTypeParser(['image/jpeg', 'image/png', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: deps.limits.bodyLimitBytes }, (_req, body, done) => {
    done(null, body);
  });

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  m.loopDelay.collect(() => loop.percentile(50) / 1e9, { quantile: '0.5' });
  m.loopDelay.collect(() => loop.percentile(99) / 1e9, { quantile: '0.99' });
  m.loopDelay.collect(() => loop.max / 1e9, { quantile: '1' });
  app.addHook('onClose', (_app, next) => {
    loop.disable();
    next();
  });

  const started = new WeakMap<object, number>();
  app.addHook('onRequest', (req, _reply, next) => {
    started.set(req, performance.now());
    m.inflight.set(++inflight);
    if (deps.limits.token && !OPEN_ROUTES.has(req.url.split('?')[0] ?? '') && req.headers.authorization !== `Bearer ${deps.limits.token}`) {
      next(new AgentError('UNAUTHORIZED', 'A valid bearer token is required.', { hint: 'Send Authorization: Bearer <inference.token>.' }));
      return;
    }
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

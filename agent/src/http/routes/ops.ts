import type { FastifyPluginAsync } from 'fastify';
import { AgentError } from '../../core/errors.js';
import type { ServerDeps } from '../server.js';
import { browserWithoutToken } from '../csrf.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const REF = /^[a-z0-9._-]+$/;

/** Health, readiness, metrics, model listing and the admin routes the CLI uses. */
export function opsRoutes(deps: ServerDeps): FastifyPluginAsync {
  const svc = deps.service;
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  return async (app) => {
    app.get('/healthz', () => ({ status: 'ok' }));
    app.get('/readyz', (_req, reply) => {
      const s = svc.status();
      if (!s.ready) throw new AgentError('MODEL_NOT_READY', s.state === 'activating' ? 'A model is being loaded and warmed up.' : 'No model is loaded.');
      return reply.send({ status: 'ready', model: s.active });
    });
    app.get('/metrics', (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(deps.metrics.registry.render()));
    app.get('/v1/models', () => svc.status());

    // Admin: loopback callers, or any caller with the bearer token (checked in onRequest), and
    // never a browser without the token (csrf.ts; another site's page is refused in onRequest).
    app.addHook('preHandler', (req, _reply, next) => {
      if (!req.url.startsWith('/v1/admin/')) {
        next();
        return;
      }
      if (!LOOPBACK.has(req.socket.remoteAddress ?? '') && !deps.limits.token) {
        next(new AgentError('UNAUTHORIZED', 'Admin routes are only open to loopback callers unless inference.token is set.'));
        return;
      }
      next(browserWithoutToken(req.headers, deps.limits.token !== ''));
    });
    app.post('/v1/admin/models/activate', async (req) => {
      const b = req.body as { name?: unknown; version?: unknown; warmupRuns?: unknown } | undefined;
      if (!b || typeof b.name !== 'string' || !REF.test(b.name) || typeof b.version !== 'string' || b.version === '') {
        throw new AgentError('BAD_REQUEST', 'The body must be {"name": "<model>", "version": "<version>"}.');
      }
      if (b.warmupRuns !== undefined && (!Number.isInteger(b.warmupRuns) || (b.warmupRuns as number) < 0)) throw new AgentError('BAD_REQUEST', 'warmupRuns must be a non-negative integer.');
      const resolved = await deps.resolveServable(b.name, b.version);
      return svc.activate(resolved.servable, {
        ...(resolved.golden ? { golden: resolved.golden } : {}),
        ...(typeof b.warmupRuns === 'number' ? { warmupRuns: b.warmupRuns } : {}),
      });
    });
    app.post('/v1/admin/models/rollback', () => svc.rollback());
  };
}

import type { FastifyPluginAsync } from 'fastify';
import { AgentError } from '../../core/errors.js';
import type { ServerDeps } from '../server.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const REF = /^[a-z0-9._-]+$/;

type Headers = Readonly<Record<string, string | string[] | undefined>>;
const one = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h[0] : h);

/**
 * CSRF defence of the state-changing routes (docs/console.md "Access"). A browser announces
 * itself with `Origin` and/or `Sec-Fetch-Site` (https://fetch.spec.whatwg.org/#origin-header,
 * https://www.w3.org/TR/fetch-metadata/); the CLI and curl send neither. From a browser:
 * - only this agent's own page may call (`Sec-Fetch-Site: same-origin`, `Origin` = this host);
 * - and only with the token: loopback alone is no credential for a browser, since any page the
 *   user opens, or a DNS-rebinding host name, can make the browser send loopback requests.
 *   The console keeps the token in the page and sends it in `Authorization`, never a cookie, so
 *   another site cannot make the browser attach it.
 * Returns the refusal, or undefined.
 */
export function adminGuard(headers: Headers, tokenConfigured: boolean): AgentError | undefined {
  const origin = one(headers.origin);
  const site = one(headers['sec-fetch-site']);
  if (origin === undefined && site === undefined) return undefined;
  const host = one(headers.host);
  if ((site !== undefined && site !== 'same-origin') || (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`)) {
    return new AgentError('CROSS_ORIGIN_REFUSED', `Refused an admin request from another site (Origin ${origin ?? '(none)'}, Sec-Fetch-Site ${site ?? '(none)'}); nothing changed.`, {
      hint: "Use this board's own console, or `jetson-agent models activate` on the board.",
    });
  }
  if (!tokenConfigured) {
    return new AgentError('UNAUTHORIZED', 'Admin actions from a browser need inference.token, and none is set on this board.', {
      hint: 'Set inference.token (JETSON_AGENT_INFERENCE_TOKEN), restart the agent and enter the token in the console; or use `jetson-agent models activate` on the board.',
    });
  }
  return undefined;
}

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
    // never another site's page (adminGuard).
    app.addHook('preHandler', (req, _reply, next) => {
      if (!req.url.startsWith('/v1/admin/')) {
        next();
        return;
      }
      if (!LOOPBACK.has(req.socket.remoteAddress ?? '') && !deps.limits.token) {
        next(new AgentError('UNAUTHORIZED', 'Admin routes are only open to loopback callers unless inference.token is set.'));
        return;
      }
      next(adminGuard(req.headers, deps.limits.token !== ''));
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

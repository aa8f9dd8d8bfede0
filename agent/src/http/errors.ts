import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AgentError, toAgentError } from '../core/errors.js';

/**
 * The one place errors become HTTP responses (docs/reference/design-rules.md "Cross-cutting rules"): status from the code's table
 * entry, body `{error: {code, message}}` (KServe routes: `{error: message, code}` — the v2
 * protocol's error shape, docs/reference/kserve-v2.md "Endpoints and JSON"), Retry-After on 503.
 */
const FASTIFY_CODES: Record<string, (e: FastifyError) => AgentError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () =>
    new AgentError('IMAGE_TOO_LARGE', 'The request body is larger than inference.bodyLimitBytes.', { hint: 'Send a smaller image or raise inference.bodyLimitBytes.' }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (e) => new AgentError('UNSUPPORTED_MEDIA_TYPE', e.message, { hint: 'Use Content-Type image/jpeg, image/png or application/octet-stream.' }),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: (e) => new AgentError('BAD_REQUEST', e.message),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new AgentError('BAD_REQUEST', 'The JSON body is empty.'),
  FST_ERR_CTP_INVALID_JSON_BODY: (e) => new AgentError('BAD_REQUEST', `The JSON body is invalid: ${e.message}`),
};

export function toHttpError(err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  const fe = err as FastifyError;
  if (typeof fe?.code === 'string') {
    const map = FASTIFY_CODES[fe.code];
    if (map) return map(fe);
    if (fe.statusCode === 400 || (err instanceof SyntaxError && fe.statusCode === undefined)) return new AgentError('BAD_REQUEST', fe.message);
    if (fe.statusCode === 413) return FASTIFY_CODES.FST_ERR_CTP_BODY_TOO_LARGE!(fe);
    if (fe.statusCode === 415) return new AgentError('UNSUPPORTED_MEDIA_TYPE', fe.message);
  }
  if (fe?.statusCode === 400) return new AgentError('BAD_REQUEST', fe.message);
  return toAgentError(err);
}

export function isKserve(req: FastifyRequest): boolean {
  return req.url.startsWith('/v2');
}

export function sendError(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = toHttpError(err);
  const status = e.httpStatus;
  if (status === 503) void reply.header('Retry-After', '1');
  const body = isKserve(req) ? { error: e.message, code: e.code } : { error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } };
  return reply.code(status).type('application/json').send(body);
}

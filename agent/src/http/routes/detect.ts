import type { FastifyPluginAsync } from 'fastify';
import { AgentError } from '../../core/errors.js';
import type { ServerDeps } from '../server.js';
import { withDeadline } from '../server.js';

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'application/octet-stream'];

function num(q: Record<string, unknown>, key: string, min: number, max: number, integer: boolean): number | undefined {
  const raw = q[key];
  if (raw === undefined || raw === '') return undefined;
  const v = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new AgentError('BAD_REQUEST', `Query parameter ${key} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}] (got ${JSON.stringify(raw)}).`);
  }
  return v;
}

/** POST /v1/detect: image in, detections in original-image pixels out (docs/http-api.md). */
export function detectRoutes(deps: ServerDeps): FastifyPluginAsync {
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  return async (app) => {
    app.post('/v1/detect', (req) => {
      const ct = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (!IMAGE_TYPES.includes(ct) || !Buffer.isBuffer(req.body)) {
        throw new AgentError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${ct || '(none)'} is not accepted by /v1/detect.`, {
          hint: 'Send the image bytes with Content-Type image/jpeg, image/png or application/octet-stream.',
        });
      }
      const q = (req.query ?? {}) as Record<string, unknown>;
      const threshold = num(q, 'threshold', 0, 1, false);
      const maxDetections = num(q, 'maxDetections', 1, 4096, true);
      const iou = num(q, 'iou', 0, 1, false);
      const rawClasses = q.classes;
      if (rawClasses !== undefined && (typeof rawClasses !== 'string' || rawClasses.trim() === '')) throw new AgentError('BAD_REQUEST', 'Query parameter classes must be a comma-separated list of labels.');
      const classes = typeof rawClasses === 'string' ? rawClasses.split(',').map((c) => c.trim()).filter(Boolean) : undefined;
      const priority = q.priority;
      if (priority !== undefined && priority !== 'normal' && priority !== 'low') throw new AgentError('BAD_REQUEST', 'Query parameter priority must be normal or low.');
      const model = q.model;
      if (model !== undefined && (typeof model !== 'string' || model === '')) throw new AgentError('BAD_REQUEST', 'Query parameter model must be a model name.');
      const body = req.body;
      // The image is read once, by the decoder; not keeping it on the request lets it die before
      // the response (see ModelRuntime.toTensor: bytes held across the engine wait get promoted
      // and cost major GCs under load).
      (req as { body: unknown }).body = undefined;
      return withDeadline(
        deps.limits.requestTimeoutMs,
        deps.service.detect(body, model, {
          ...(threshold !== undefined ? { threshold } : {}),
          // Absent: the package's maxDetections, else inference.maxDetections (ModelRuntime).
          ...(maxDetections !== undefined ? { maxDetections } : {}),
          ...(iou !== undefined ? { iou } : {}),
          ...(classes ? { classes } : {}),
          ...(priority === 'low' ? { priority } : {}),
        }),
      );
    });
  };
}

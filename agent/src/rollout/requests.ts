import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AgentError, toAgentError } from '../core/errors.js';
import { decodeSigned, verifyEnvelope, type KeyRing } from '../core/envelope.js';
import { REQUEST_OPS, TOPIC_PAYLOAD_VERSION, type RequestOp, type ResponsePayload } from '../core/contracts/topics.js';

/**
 * Request/response ops on `{p}/devices/{id}/request/{op}` → `…/response/{op}` with an echoed
 * `transaction` (zigbee2mqtt bridge/request convention, operations.md §9.3). Every op except
 * `ping` must arrive signed like manifests (same keys), name this device and be unexpired, so a
 * captured request cannot be replayed elsewhere or later.
 */
export const RequestPayloadSchema = Type.Object(
  {
    v: Type.Literal(TOPIC_PAYLOAD_VERSION),
    transaction: Type.String({ minLength: 1, maxLength: 128 }),
    expiresAt: Type.Optional(Type.String({ minLength: 10 })),
    deviceId: Type.Optional(Type.String({ minLength: 1 })),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export type RequestHandlers = Readonly<Record<RequestOp, ((params: Record<string, unknown>) => Promise<unknown>) | undefined>>;

/**
 * The `rollback` op: `deploymentId` (optional) names the deployment to undo (what the fleet
 * controller sends when it rolls a wave back). A present but non-string id is refused: it must
 * not turn into an unscoped rollback, which cancels whatever runs.
 */
export function rollbackOp(executor: { rollback(deploymentId?: string): Promise<unknown> }): (params: Record<string, unknown>) => Promise<unknown> {
  return async (params) => {
    const id = params.deploymentId;
    if (id !== undefined && typeof id !== 'string') {
      throw new AgentError('BAD_REQUEST', `rollback: deploymentId must be a string, got ${JSON.stringify(id)}.`, {
        hint: 'Send the id as a JSON string (jetson-fleet request ID rollback --param \'deploymentId="42"\'), or leave it out to roll back whatever serves.',
      });
    }
    return executor.rollback(id);
  };
}

export interface RequestContext {
  readonly deviceId: string;
  readonly keys: KeyRing;
  readonly now: number;
  readonly handlers: RequestHandlers;
}

function isOp(op: string): op is RequestOp {
  return (REQUEST_OPS as readonly string[]).includes(op);
}

function transactionOf(raw: Buffer): string | null {
  try {
    const v = JSON.parse(raw.toString('utf8')) as { transaction?: unknown };
    return typeof v.transaction === 'string' ? v.transaction : null;
  } catch {
    return null;
  }
}

/**
 * The transaction a refused request claims, read from the clear body or from inside a signed
 * envelope's (unverified) payload. Used only to address the error response, so the sender can
 * tell "refused: unknown key" from "no answer"; nothing runs on its strength.
 */
function claimedTransaction(raw: Buffer): string | null {
  const clear = transactionOf(raw);
  if (clear !== null) return clear.slice(0, 128);
  try {
    const env = JSON.parse(raw.toString('utf8')) as { payload?: unknown };
    if (typeof env.payload !== 'string') return null;
    const inner = transactionOf(Buffer.from(env.payload, 'base64'));
    return inner === null ? null : inner.slice(0, 128);
  } catch {
    return null;
  }
}

export async function handleRequest(op: string, raw: Buffer, ctx: RequestContext): Promise<ResponsePayload> {
  let transaction: string | null = null;
  try {
    if (!isOp(op)) {
      throw new AgentError('REQUEST_UNKNOWN_OP', `Unknown request op "${op}".`, { hint: `Known ops: ${REQUEST_OPS.join(', ')}.` });
    }
    let req;
    if (op === 'ping' && transactionOf(raw) !== null) {
      const plain: unknown = JSON.parse(raw.toString('utf8'));
      if (!Value.Check(RequestPayloadSchema, plain)) throw new AgentError('MANIFEST_INVALID', 'A ping request is {v: 1, transaction}.');
      req = plain;
    } else {
      req = decodeSigned(verifyEnvelope(raw, ctx.keys), RequestPayloadSchema, 'request');
      if (op !== 'ping') {
        if (req.deviceId !== ctx.deviceId) {
          throw new AgentError('MANIFEST_INVALID', `The signed request is for device "${req.deviceId ?? '(none)'}", not "${ctx.deviceId}".`, {
            hint: 'Sign requests with deviceId set to the target device.',
          });
        }
        if (!req.expiresAt || !(Date.parse(req.expiresAt) > ctx.now)) {
          throw new AgentError('MANIFEST_EXPIRED', `The signed request expired (${req.expiresAt ?? 'no expiresAt'}).`, { hint: 'Send a fresh request with a future expiresAt.' });
        }
      }
    }
    transaction = req.transaction;
    const handler = ctx.handlers[op];
    if (!handler) {
      throw new AgentError('DEPLOYMENT_NOT_WIRED', `The op "${op}" is not available in this build (its feature is not wired).`);
    }
    const data = await handler(req.params ?? {});
    return { v: TOPIC_PAYLOAD_VERSION, transaction, status: 'ok', data };
  } catch (err) {
    const e = toAgentError(err);
    transaction ??= claimedTransaction(raw);
    return { v: TOPIC_PAYLOAD_VERSION, transaction, status: 'error', error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } };
  }
}

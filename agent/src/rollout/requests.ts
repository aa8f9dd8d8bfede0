import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AgentError, toAgentError } from '../core/errors.js';
import { decodeSigned, verifyEnvelope, type KeyRing } from '../core/envelope.js';
import { REQUEST_OPS, REQUEST_PAYLOAD_VERSION, TOPIC_PAYLOAD_VERSION, type RequestOp, type ResponsePayload } from '../core/contracts/topics.js';
import type { ReplayGuard } from './request-replay.js';

/**
 * Request/response ops on `{p}/devices/{id}/request/{op}` → `…/response/{op}` with an echoed
 * `transaction` (zigbee2mqtt bridge/request convention, docs/reference/fleet-rollouts.md "Request and response convention"). Every op except a
 * clear `ping` must arrive signed like manifests (same keys), and the signed bytes name the op,
 * this device and an expiry (payload v2, core/contracts/topics.ts): a captured request cannot
 * be republished on another op's topic, sent to another device, or run after its expiry; and
 * the replay guard (request-replay.ts) runs each signed transaction at most once.
 */
export const RequestPayloadSchema = Type.Object(
  {
    v: Type.Literal(REQUEST_PAYLOAD_VERSION),
    op: Type.String({ minLength: 1, maxLength: 64 }),
    transaction: Type.String({ minLength: 1, maxLength: 128 }),
    deviceId: Type.String({ minLength: 1, maxLength: 128 }),
    expiresAt: Type.String({ minLength: 10, maxLength: 64 }),
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

const ClearPingSchema = Type.Object(
  {
    v: Type.Union([Type.Literal(TOPIC_PAYLOAD_VERSION), Type.Literal(REQUEST_PAYLOAD_VERSION)]),
    transaction: Type.String({ minLength: 1, maxLength: 128 }),
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
  /** Remembers accepted signed transactions until their expiry (persisted). */
  readonly replay: ReplayGuard;
  /** A signed request may expire at most this far ahead of the device clock (rollout.requestMaxTtlSec). */
  readonly maxTtlMs: number;
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

/** Verify a signed request for `op` on this device; returns its payload and expiry. Runs nothing. */
function verifySigned(op: RequestOp, raw: Buffer, ctx: RequestContext): { req: Static<typeof RequestPayloadSchema>; expiresAtMs: number } {
  const bytes = verifyEnvelope(raw, ctx.keys);
  let version: unknown;
  try {
    version = (JSON.parse(bytes.toString('utf8')) as { v?: unknown } | null)?.v;
  } catch {
    version = undefined;
  }
  if (version === TOPIC_PAYLOAD_VERSION) {
    throw new AgentError('MANIFEST_INVALID', 'The signed request is version 1, which does not bind the op it is meant for; this agent accepts version 2 only.', {
      hint: 'Send it with a jetson-fleet of the same release as the agent (it signs {v: 2, op, deviceId, transaction, expiresAt}).',
    });
  }
  const req = decodeSigned(bytes, RequestPayloadSchema, 'request');
  if (req.op !== op) {
    throw new AgentError('REQUEST_MISDIRECTED', `The signed request is for the op "${req.op}" but arrived on the "${op}" topic; it was not run.`, {
      hint: 'Publish a request on the topic of the op it was signed for; a captured request cannot be reused for another op.',
    });
  }
  if (req.deviceId !== ctx.deviceId) {
    throw new AgentError('REQUEST_MISDIRECTED', `The signed request is for device "${req.deviceId}", not "${ctx.deviceId}"; it was not run.`, {
      hint: 'Sign requests with deviceId set to the target device.',
    });
  }
  const expiresAtMs = Date.parse(req.expiresAt);
  if (!(expiresAtMs > ctx.now)) {
    throw new AgentError('MANIFEST_EXPIRED', `The signed request expired (${req.expiresAt}).`, { hint: 'Send a fresh request with a future expiresAt.' });
  }
  if (expiresAtMs - ctx.now > ctx.maxTtlMs) {
    throw new AgentError('MANIFEST_INVALID', `The signed request expires at ${req.expiresAt}, more than rollout.requestMaxTtlSec (${ctx.maxTtlMs / 1000} s) ahead of this device's clock; it was not run.`, {
      hint: 'Sign requests with a shorter expiry (jetson-fleet request does), or check the clocks of the board and the controller.',
    });
  }
  return { req, expiresAtMs };
}

export async function handleRequest(op: string, raw: Buffer, ctx: RequestContext): Promise<ResponsePayload> {
  let transaction: string | null = null;
  try {
    if (!isOp(op)) {
      throw new AgentError('REQUEST_UNKNOWN_OP', `Unknown request op "${op}".`, { hint: `Known ops: ${REQUEST_OPS.join(', ')}.` });
    }
    let params: Record<string, unknown> = {};
    let admit: (() => Promise<void>) | undefined;
    if (op === 'ping' && transactionOf(raw) !== null) {
      const plain: unknown = JSON.parse(raw.toString('utf8'));
      if (!Value.Check(ClearPingSchema, plain)) throw new AgentError('MANIFEST_INVALID', 'A ping in clear is {v: 1, transaction}.');
      transaction = plain.transaction;
    } else {
      const { req, expiresAtMs } = verifySigned(op, raw, ctx);
      transaction = req.transaction;
      params = req.params ?? {};
      const id = req.transaction;
      admit = () => ctx.replay.admit(id, expiresAtMs, ctx.now);
    }
    const handler = ctx.handlers[op];
    if (!handler) {
      throw new AgentError('DEPLOYMENT_NOT_WIRED', `The op "${op}" is not available in this build (its feature is not wired).`);
    }
    // Recorded (on disk) before the op runs: the same envelope is refused from here on.
    await admit?.();
    const data = await handler(params);
    return { v: TOPIC_PAYLOAD_VERSION, transaction, status: 'ok', data };
  } catch (err) {
    const e = toAgentError(err);
    transaction ??= claimedTransaction(raw);
    return { v: TOPIC_PAYLOAD_VERSION, transaction, status: 'error', error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } };
  }
}

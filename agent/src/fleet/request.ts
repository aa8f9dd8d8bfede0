import type { KeyObject } from 'node:crypto';
import { stringify } from 'yaml';
import { AgentError, UsageError } from '../core/errors.js';
import { signEnvelope } from '../core/envelope.js';
import {
  REQUEST_OPS,
  REQUEST_PAYLOAD_VERSION,
  TOPIC_PAYLOAD_VERSION,
  type ClearPingPayload,
  type RequestOp,
  type RequestPayload,
  type ResponsePayload,
  type StatusPayload,
} from '../core/contracts/topics.js';
import { formatDuration } from './duration.js';
import { keyIdOf } from './key-id.js';

/**
 * Controller side of the device request/response ops (`jetson-fleet request ID OP`): the
 * request body, the clock-skew allowance of its expiry, and what a response or its absence
 * means to the operator. Pure; the MQTT exchange is in request-client.ts.
 */

/**
 * Allowance for a board clock a little behind this machine's, added to every expiry.
 */
export const REQUEST_SKEW_MS = 30_000;

/**
 * A signed request must reach the device within this time (at most --timeout), plus the
 * skew: the device starts the op as soon as the request arrives, so the expiry bounds only
 * the delivery, not the op (a plugin-rebuild answers after its build, long after). Short, so a
 * request queued for an offline device in its persistent session is refused when the device
 * reconnects later (the operator was told it timed out, so it must not run then), and the
 * device's record of accepted requests (rollout/request-replay.ts) stays small.
 */
export const REQUEST_DELIVERY_MS = 30_000;

export function parseOp(text: string): RequestOp {
  const op = REQUEST_OPS.find((o) => o === text);
  if (!op) {
    throw new AgentError('REQUEST_UNKNOWN_OP', `Unknown request op "${text}"; nothing was sent.`, { hint: `Known ops: ${REQUEST_OPS.join(', ')}.` });
  }
  return op;
}

/** `--param K=V` (repeatable): V is JSON when it parses as JSON (`true`, `3`, `{"a":1}`), else the text itself. */
export function parseParams(items: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`Bad --param "${item}": expected KEY=VALUE.`, 'Example: --param deploymentId=peoplenet-1.2.0');
    const value = item.slice(eq + 1);
    let parsed: unknown = value;
    try {
      parsed = JSON.parse(value);
    } catch {
      // plain text
    }
    out[item.slice(0, eq)] = parsed;
  }
  return out;
}

export interface RequestBodyInput {
  readonly op: RequestOp;
  readonly deviceId: string;
  readonly transaction: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly now: number;
  readonly timeoutMs: number;
  /** Fleet signing key; without it only `ping` can be sent (in clear). */
  readonly key: KeyObject | undefined;
}

/** The payload a signed request carries (v2: op, device and expiry are inside the signature). */
export function signedRequest(i: { op: RequestOp; deviceId: string; transaction: string; params?: Readonly<Record<string, unknown>>; expiresAt: number }): RequestPayload {
  const hasParams = i.params !== undefined && Object.keys(i.params).length > 0;
  return {
    v: REQUEST_PAYLOAD_VERSION,
    op: i.op,
    transaction: i.transaction,
    deviceId: i.deviceId,
    expiresAt: new Date(i.expiresAt).toISOString(),
    ...(hasParams ? { params: i.params } : {}),
  };
}

/** Sign a request payload as the envelope published on `{p}/devices/{id}/request/{op}`. */
export function signRequest(payload: RequestPayload, key: KeyObject): string {
  return JSON.stringify(signEnvelope(JSON.stringify(payload), key, keyIdOf(key)));
}

/** The exact bytes published on `{p}/devices/{id}/request/{op}`. */
export function requestBody(i: RequestBodyInput): string {
  if (!i.key) {
    if (i.op !== 'ping') {
      throw new UsageError(`The "${i.op}" request must be signed: pass --key PRIVATE (the fleet signing key).`, 'Only ping may be sent unsigned.');
    }
    const clear: ClearPingPayload = { v: TOPIC_PAYLOAD_VERSION, transaction: i.transaction };
    return JSON.stringify(clear);
  }
  // op, deviceId and expiry are inside the signature: a captured request cannot be replayed
  // on another op, to another device or later; the device runs each transaction once
  // (rollout/requests.ts checks all of it).
  const expiresAt = i.now + Math.min(i.timeoutMs, REQUEST_DELIVERY_MS) + REQUEST_SKEW_MS;
  return signRequest(signedRequest({ op: i.op, deviceId: i.deviceId, transaction: i.transaction, params: i.params, expiresAt }), i.key);
}

/** Device codes that mean "the request was not accepted" rather than "the op ran and failed". */
const REFUSALS: Readonly<Record<string, string>> = {
  MANIFEST_UNKNOWN_KEY: "Sign with a key listed in the device's rollout.fleetPublicKeys (`jetson-fleet keys generate` prints the snippet), or add this key there.",
  MANIFEST_BAD_SIGNATURE: 'The request was changed in transit or signed with a different key than its keyId names; sign it again with the fleet key.',
  MANIFEST_MALFORMED: 'Pass --key PRIVATE: this op must be a signed envelope.',
  MANIFEST_INVALID: 'Use a jetson-fleet of the same version as the agent (request schema v1).',
  MANIFEST_EXPIRED: `The request reached the device more than ${(REQUEST_DELIVERY_MS + REQUEST_SKEW_MS) / 1000}s after it was signed (it was queued while the device was offline), or the device clock is ahead of this machine's; retry, and check NTP on the board and this machine.`,
  REQUEST_MISDIRECTED: 'The request arrived on another op or device than it was signed for; send a fresh request with jetson-fleet request.',
  REQUEST_REPLAYED: 'The device already ran a request with this transaction; send a fresh request (jetson-fleet request makes a new transaction every time).',
};

/** null for an ok response; otherwise the coded error the CLI reports. */
export function responseError(deviceId: string, op: RequestOp, res: ResponsePayload): AgentError | null {
  if (res.status === 'ok') return null;
  const code = res.error?.code ?? 'UNKNOWN';
  const message = res.error?.message ?? '(no message)';
  const details = { deviceId, op, deviceCode: code, deviceMessage: message };
  const refusal = REFUSALS[code];
  if (refusal !== undefined) {
    return new AgentError('FLEET_REQUEST_REJECTED', `Device ${deviceId} refused the ${op} request: ${code}: ${message}`, { hint: refusal, details });
  }
  const hint =
    code === 'REQUEST_UNKNOWN_OP' || code === 'DEPLOYMENT_NOT_WIRED'
      ? `The agent on ${deviceId} does not offer "${op}" (older version or feature not wired); upgrade the agent.`
      : `Inspect the device with \`jetson-fleet device ${deviceId}\` and its agent log.`;
  return new AgentError('FLEET_REQUEST_FAILED', `Device ${deviceId} answered ${op} with an error: ${code}: ${message}`, { hint, details });
}

/** The retained status, said for an operator: "offline since … (connection lost)". */
export function describeStatus(status: StatusPayload | null): string {
  if (!status) return 'no retained status (the device never connected to this broker under this prefix)';
  const since = status.ts ? ` since ${status.ts}` : '';
  const why = status.state === 'offline' ? (status.reason === 'graceful' ? ' (the agent stopped)' : ' (connection lost: last will)') : '';
  return `${status.state}${since}${why}`;
}

export function timeoutError(deviceId: string, op: RequestOp, timeoutMs: number, status: StatusPayload | null, prefix: string): AgentError {
  const hint = !status
    ? `Check the device id (\`jetson-fleet devices\`), --broker and --topic-prefix (${prefix}).`
    : status.state === 'offline'
      ? 'The device is offline; requests are not kept for it. Retry when `jetson-fleet devices` shows it online.'
      : `The device is online but did not answer: check its agent log and that the broker ACL lets it read ${prefix}/devices/${deviceId}/request/+ and write …/response/+.`;
  return new AgentError('FLEET_REQUEST_TIMEOUT', `No response from ${deviceId} to ${op} within ${formatDuration(timeoutMs)}; the device is ${describeStatus(status)}.`, {
    hint,
    details: { deviceId, op, status },
  });
}

/** Human output of an ok response: one summary line, then the data as YAML (a config reads as the file it came from). */
export function formatResponse(deviceId: string, op: RequestOp, res: ResponsePayload, elapsedMs: number): string {
  const head = `${deviceId} ${op}: ok in ${elapsedMs} ms`;
  if (res.data === undefined || res.data === null) return head;
  return `${head}\n${stringify(res.data).trimEnd()}`;
}

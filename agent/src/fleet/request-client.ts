import { randomBytes } from 'node:crypto';
import type { BusFactory } from '../core/contracts/bus.js';
import { deviceTopics, type RequestOp, type ResponsePayload, type StatusPayload } from '../core/contracts/topics.js';

export interface RequestExchange {
  readonly connect: BusFactory;
  readonly prefix: string;
  readonly deviceId: string;
  readonly op: RequestOp;
  readonly transaction: string;
  /** Exact bytes to publish (request.ts requestBody). */
  readonly body: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface RequestOutcome {
  /** The response carrying our transaction, or null when none came in time. */
  readonly response: ResponsePayload | null;
  /** The device's retained status as seen while waiting (null: none retained). */
  readonly status: StatusPayload | null;
  readonly elapsedMs: number;
}

function parse<T>(payload: Buffer): T | null {
  try {
    return JSON.parse(payload.toString('utf8')) as T;
  } catch {
    return null;
  }
}

/**
 * One request/response exchange over its own connection: subscribe to the response topic and
 * the device's retained status FIRST (a fast device may answer before a late subscription
 * exists, and responses are not retained), then publish the request (QoS 1, not retained:
 * the device ignores retained requests) and wait for the response with our transaction.
 * Responses of other controllers on the same topic are ignored.
 */
export async function exchangeRequest(x: RequestExchange): Promise<RequestOutcome> {
  const t = deviceTopics(x.prefix, x.deviceId);
  const bus = await x.connect({ clientId: `jetson-fleet-req-${randomBytes(6).toString('hex')}` });
  try {
    let status: StatusPayload | null = null;
    let resolveResponse: (r: ResponsePayload | null) => void = () => undefined;
    const answered = new Promise<ResponsePayload | null>((resolve) => (resolveResponse = resolve));
    bus.onMessage((topic, payload) => {
      if (topic === t.status.topic) status = payload.length ? parse<StatusPayload>(payload) : null;
      else if (topic === t.response(x.op).topic) {
        const res = parse<ResponsePayload>(payload);
        if (res?.transaction === x.transaction) resolveResponse(res);
      }
    });
    await bus.subscribe([t.response(x.op).topic, t.status.topic]);
    const started = Date.now();
    await bus.publish(t.request(x.op).topic, x.body, false);
    const timer = setTimeout(() => resolveResponse(null), x.timeoutMs);
    const onAbort = (): void => resolveResponse(null);
    x.signal?.addEventListener('abort', onAbort, { once: true });
    const response = await answered;
    clearTimeout(timer);
    x.signal?.removeEventListener('abort', onAbort);
    return { response, status, elapsedMs: Date.now() - started };
  } finally {
    await bus.close();
  }
}

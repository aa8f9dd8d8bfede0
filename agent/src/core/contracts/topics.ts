import type { DeploymentReport } from './deployment.js';
import type { HealthSnapshot } from './health.js';

/**
 * The one topic → payload map (docs/mqtt.md "Topics" table; issue #6 §1), used by the device
 * publisher/receiver (mqtt/, rollout/), the fleet controller and tests. Payloads are JSON,
 * versioned with `v`, and never changed in place (docs/reference/fleet-rollouts.md "Lessons from other updaters", zigbee2mqtt#25978).
 * Device ids and group names are single topic levels: no `/`, `+`, `#` (mosquitto pattern
 * ACLs substitute `%u` as a whole level; docs/reference/mqtt-broker.md "mosquitto ACLs").
 */
export const TOPIC_PAYLOAD_VERSION = 1;

export interface BoardSummary {
  readonly isJetson: boolean;
  readonly model: string | null;
  readonly soc: string | null;
  readonly jetpack: string | null;
  readonly tensorrt: string | null;
  /** GPU arch (BoardInfo.cudaArch, e.g. 87); optional, added for fleet targeting. */
  readonly cudaArch?: number | null;
}

/**
 * Retained; the last will publishes `{v, state: "offline", reason: "will", …}` with the online
 * facts but no ts (the will is fixed at connect). Offline payloads keep groups and board so a
 * device that is down can still be targeted (and is then pending).
 */
export interface StatusPayload {
  readonly v: typeof TOPIC_PAYLOAD_VERSION;
  readonly state: 'online' | 'offline';
  readonly ts?: string;
  readonly agentVersion?: string;
  readonly board?: BoardSummary;
  /** `graceful` when the agent said goodbye itself, `will` when the broker published the LWT. */
  readonly reason?: 'graceful' | 'will';
  /** Fleet groups of the device (config `groups`), so a controller can resolve `--target group:NAME`. */
  readonly groups?: readonly string[];
}

/** Signed envelope (core/envelope.ts): the payload bytes are what is signed. */
export interface SignedEnvelope {
  readonly payload: string;
  readonly signature: string;
  readonly keyId: string;
}

export interface EventPayload {
  readonly v: typeof TOPIC_PAYLOAD_VERSION;
  readonly ts: string;
  /** e.g. `deployment.rejected`, `tegrastats.restarted`, `desired.ignored`. */
  readonly type: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export const REQUEST_OPS = ['ping', 'rollback', 'plugin-status', 'plugin-rebuild', 'restart-inference', 'get-config'] as const;
export type RequestOp = (typeof REQUEST_OPS)[number];

/**
 * Signed requests carry version 2 of the request payload: v1 bound neither the op nor, for
 * ping, the device, so a captured envelope could be republished on another op's topic
 * (a get-config replayed as restart-inference). v2 signs `op`, `deviceId` and `expiresAt`, and
 * the device keeps every accepted `transaction` until its expiry (rollout/request-replay.ts).
 */
export const REQUEST_PAYLOAD_VERSION = 2;

/** The payload inside a signed request envelope (every op; `ping` may also come in clear). */
export interface RequestPayload {
  readonly v: typeof REQUEST_PAYLOAD_VERSION;
  /** Must equal the `{op}` level of the topic the request arrived on. */
  readonly op: RequestOp;
  /**
   * Echoed in the response (zigbee2mqtt bridge/request convention, docs/reference/fleet-rollouts.md "Request and response convention") and the
   * request's id: a device runs a signed request with a given transaction at most once.
   */
  readonly transaction: string;
  /** Must equal the device id, so a request cannot be replayed to another device. */
  readonly deviceId: string;
  /** ISO-8601; requests past it are refused (stale commands must die). */
  readonly expiresAt: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

/** `ping` in clear (no key needed; it changes nothing on the device). */
export interface ClearPingPayload {
  readonly v: typeof TOPIC_PAYLOAD_VERSION | typeof REQUEST_PAYLOAD_VERSION;
  readonly transaction: string;
}

export interface ResponsePayload {
  readonly v: typeof TOPIC_PAYLOAD_VERSION;
  readonly transaction: string | null;
  readonly status: 'ok' | 'error';
  readonly data?: unknown;
  /** `hint` (added with restart-inference/plugin-rebuild): what to do, when the error has one. */
  readonly error?: { readonly code: string; readonly message: string; readonly hint?: string };
}

/** Kind of topic → payload type. */
export interface TopicPayloads {
  status: StatusPayload;
  health: HealthSnapshot;
  desired: SignedEnvelope;
  groupDesired: SignedEnvelope;
  deployment: DeploymentReport;
  events: EventPayload;
  request: SignedEnvelope | ClearPingPayload;
  response: ResponsePayload;
}
export type TopicKind = keyof TopicPayloads;

/** Retained flag per kind (docs/mqtt.md "Topics" table). Publishers take it from here, not from call sites. */
export const RETAINED: Readonly<Record<TopicKind, boolean>> = {
  status: true,
  health: true,
  desired: true,
  groupDesired: true,
  deployment: true,
  events: false,
  request: false,
  response: false,
};

/** A typed topic: the string plus its kind, so publish() can check the payload type. */
export interface Topic<K extends TopicKind> {
  readonly kind: K;
  readonly topic: string;
}

const LEVEL = /^[^/+#\0]+$/;

export function assertTopicLevel(what: string, value: string): void {
  if (!LEVEL.test(value)) throw new Error(`${what} "${value}" is not a valid single MQTT topic level (no "/", "+", "#")`);
}

export interface DeviceTopics {
  readonly status: Topic<'status'>;
  readonly health: Topic<'health'>;
  readonly desired: Topic<'desired'>;
  readonly deployment: Topic<'deployment'>;
  readonly events: Topic<'events'>;
  request(op: string): Topic<'request'>;
  response(op: string): Topic<'response'>;
  /** Subscription filter for every request op of this device. */
  readonly requestFilter: string;
}

export function deviceTopics(prefix: string, deviceId: string): DeviceTopics {
  assertTopicLevel('device id', deviceId);
  const base = `${prefix}/devices/${deviceId}`;
  return {
    status: { kind: 'status', topic: `${base}/status` },
    health: { kind: 'health', topic: `${base}/health` },
    desired: { kind: 'desired', topic: `${base}/desired` },
    deployment: { kind: 'deployment', topic: `${base}/deployment` },
    events: { kind: 'events', topic: `${base}/events` },
    request: (op) => {
      assertTopicLevel('request op', op);
      return { kind: 'request', topic: `${base}/request/${op}` };
    },
    response: (op) => {
      assertTopicLevel('response op', op);
      return { kind: 'response', topic: `${base}/response/${op}` };
    },
    requestFilter: `${base}/request/+`,
  };
}

export function groupDesiredTopic(prefix: string, group: string): Topic<'groupDesired'> {
  assertTopicLevel('group', group);
  return { kind: 'groupDesired', topic: `${prefix}/groups/${group}/desired` };
}

export type ParsedTopic =
  | { readonly kind: Exclude<TopicKind, 'groupDesired' | 'request' | 'response'>; readonly deviceId: string }
  | { readonly kind: 'request' | 'response'; readonly deviceId: string; readonly op: string }
  | { readonly kind: 'groupDesired'; readonly group: string };

/** Inverse of the builders; null for anything outside the map. */
export function parseTopic(prefix: string, topic: string): ParsedTopic | null {
  if (!topic.startsWith(prefix + '/')) return null;
  const parts = topic.slice(prefix.length + 1).split('/');
  if (parts[0] === 'groups' && parts.length === 3 && parts[2] === 'desired' && parts[1]) return { kind: 'groupDesired', group: parts[1] };
  if (parts[0] !== 'devices' || !parts[1]) return null;
  const deviceId = parts[1];
  if (parts.length === 3) {
    const k = parts[2];
    if (k === 'status' || k === 'health' || k === 'desired' || k === 'deployment' || k === 'events') return { kind: k, deviceId };
    return null;
  }
  if (parts.length === 4 && (parts[2] === 'request' || parts[2] === 'response') && parts[3]) {
    return { kind: parts[2], deviceId, op: parts[3] };
  }
  return null;
}

/**
 * Retained progress of a fleet rollout (controller side; payload in fleet/rollout-record.ts),
 * so any machine can watch it and a restarted controller resumes. Written only by the controller.
 */
export function rolloutTopic(prefix: string, deploymentId: string): string {
  assertTopicLevel('deployment id', deploymentId);
  return `${prefix}/rollouts/${deploymentId}`;
}

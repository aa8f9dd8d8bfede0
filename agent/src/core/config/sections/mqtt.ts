import { Type } from '@sinclair/typebox';

export const MqttSection = Type.Object(
  {
    url: Type.String({ default: '', description: 'Broker URL (mqtt://, mqtts://); several comma-separated = failover in turn. Empty = start the embedded broker (standalone mode). A password in the URL (mqtt://user:pass@host) is shown as *** like mqtt.password; prefer mqtt.password.' }),
    username: Type.String({ default: '', description: 'MQTT user name (default: the device id when a password is set).' }),
    password: Type.String({ default: '', secret: true, description: 'MQTT password.' }),
    caFile: Type.String({ default: '', description: 'CA certificate for mqtts://.' }),
    certFile: Type.String({ default: '', description: 'Client certificate for mqtts://.' }),
    keyFile: Type.String({ default: '', description: 'Client private key for mqtts://.' }),
    protocolVersion: Type.Union([Type.Literal(4), Type.Literal(5)], { default: 4, description: '4 = MQTT 3.1.1, 5 = MQTT 5.' }),
    topicPrefix: Type.String({ default: 'jetson/v1', description: 'Prefix {p} of every topic.' }),
    keepaliveSec: Type.Integer({ default: 30, minimum: 5, description: 'MQTT keep-alive.' }),
    reconnectMaxMs: Type.Integer({ default: 60000, minimum: 1000, description: 'Cap of the reconnect backoff.' }),
    offlineQueueMax: Type.Integer({ default: 1000, minimum: 1, description: 'Messages kept while disconnected.' }),
    embedded: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'Embedded broker bind address.' }),
        port: Type.Integer({ default: 1883, minimum: 0, maximum: 65535, description: 'Embedded broker port.' }),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { default: {}, additionalProperties: false },
);

export const HealthSection = Type.Object(
  {
    intervalSec: Type.Integer({ default: 30, minimum: 1, description: 'Health snapshot period.' }),
    tegrastatsIntervalMs: Type.Integer({ default: 1000, minimum: 100, description: 'tegrastats --interval.' }),
    maxTempC: Type.Number({ default: 85, description: 'Temperature above which the device is degraded (throttling territory).' }),
    minFreeDiskBytes: Type.Integer({ default: 1073741824, minimum: 0, description: 'Free space in the state dir below which the device is degraded.' }),
    maxErrorRate: Type.Number({ default: 0.05, minimum: 0, maximum: 1, description: 'Inference error ratio per interval above which the device is degraded.' }),
    tegrastatsPath: Type.String({ default: '', description: 'tegrastats binary; empty = /usr/bin/tegrastats under hostRoot, then PATH (Jetsons only).' }),
  },
  { default: {}, additionalProperties: false },
);

export const RolloutSection = Type.Object(
  {
    fleetPublicKeys: Type.Array(
      Type.Object(
        {
          keyId: Type.String({ minLength: 1 }),
          publicKey: Type.String({ minLength: 1, description: 'PEM (SPKI) or base64url raw 32-byte Ed25519 key.' }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'Ed25519 keys whose signatures the device accepts (several for rotation).' },
    ),
    probationSec: Type.Integer({ default: 60, minimum: 0, description: 'Default healthy-serving time before a deployment is active.' }),
    downloadTimeoutSec: Type.Integer({ default: 1800, minimum: 10, description: 'Deadline of the download stage.' }),
    maxDownloadBytes: Type.Integer({ default: 2147483648, minimum: 1024, description: 'Size cap of a package download.' }),
    maxErrorRate: Type.Number({ default: 0.05, minimum: 0, maximum: 1, description: 'Inference error ratio during probation above which the device rolls back (manifest policy.maxErrorRate wins).' }),
    receivedTimeoutSec: Type.Integer({ default: 60, minimum: 1, description: 'Deadline of the received state (admission before download).' }),
    verifyTimeoutSec: Type.Integer({ default: 600, minimum: 1, description: 'Deadline of the verifying state (sha256 of the package).' }),
    convertTimeoutSec: Type.Integer({ default: 3600, minimum: 10, description: 'Deadline of the converting state (intake + engine build).' }),
    warmTimeoutSec: Type.Integer({ default: 600, minimum: 1, description: 'Deadline of the warming state (load + warm-up + golden check).' }),
    activateTimeoutSec: Type.Integer({ default: 120, minimum: 1, description: 'Deadline of the activating state (traffic switch).' }),
    probationGraceSec: Type.Integer({ default: 120, minimum: 1, description: 'Added to the probation time to form the probation deadline.' }),
    requestMaxTtlSec: Type.Integer({
      default: 3600,
      minimum: 60,
      maximum: 86400,
      description: 'A signed MQTT request whose expiresAt lies further ahead of the device clock is refused; accepted requests are remembered (against replay) until they expire.',
    }),
  },
  { default: {}, additionalProperties: false },
);

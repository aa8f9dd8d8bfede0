import { X509Certificate } from 'node:crypto';
import { AgentError } from '../core/errors.js';

/**
 * The broker setup of docs/mqtt.md ties a connection's client id to its identity: the device
 * listener replaces the client id with the user name (mosquitto `use_username_as_clientid`), and
 * with client certificates the user name is the certificate's CN (`use_identity_as_username`).
 * The agent connects with client id = device id, and its topics are `{p}/devices/{device id}/…`
 * under a `%u` ACL, so the identity the broker sees must BE the device id: otherwise the broker
 * files the session under another id than the agent thinks, and the ACL denies every topic.
 * Checked before the first connect so the mistake is one clear error, not silent denials.
 */
export interface MqttIdentityInput {
  readonly deviceId: string;
  /** The user name the client sends (after the device-id default), or '' for none. */
  readonly username: string;
  /** PEM of mqtt.certFile, when set. */
  readonly certPem?: Buffer;
}

/** The CN of a PEM certificate's subject, or null when it has none. */
export function certificateCommonName(pem: Buffer): string | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (err) {
    throw new AgentError('CONFIG_INVALID', `mqtt.certFile is not a PEM certificate (${(err as Error).message}).`, {
      hint: 'Point mqtt.certFile at the client certificate signed by the fleet CA (PEM).',
      cause: err,
    });
  }
  // X509Certificate.subject is one "KEY=value" per line (Node docs, crypto "x509.subject").
  const cn = cert.subject.split('\n').find((l) => l.startsWith('CN='));
  return cn === undefined ? null : cn.slice(3);
}

export function checkMqttIdentity(i: MqttIdentityInput): void {
  if (i.username !== '' && i.username !== i.deviceId) {
    throw new AgentError('MQTT_IDENTITY_MISMATCH', `mqtt.username "${i.username}" is not the device id "${i.deviceId}"; the broker ties the client id to the user name, so the agent refuses to connect.`, {
      hint: 'Leave mqtt.username empty (it defaults to the device id) or set deviceId to the broker user name; see docs/mqtt.md "Broker setup".',
      details: { deviceId: i.deviceId, username: i.username },
    });
  }
  if (i.certPem !== undefined) {
    const cn = certificateCommonName(i.certPem);
    if (cn !== i.deviceId) {
      throw new AgentError('MQTT_IDENTITY_MISMATCH', `The client certificate's CN is ${cn === null ? 'missing' : `"${cn}"`}, not the device id "${i.deviceId}"; the broker takes the CN as user name and client id, so the agent refuses to connect.`, {
        hint: 'Have the fleet CA sign a certificate with CN=<device id> (the provisioning script makes that CSR), or set deviceId to the CN.',
        details: { deviceId: i.deviceId, commonName: cn },
      });
    }
  }
}

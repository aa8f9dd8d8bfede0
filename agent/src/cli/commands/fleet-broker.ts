import { createPublicKey } from 'node:crypto';
import type { BusFactory } from '../../core/contracts/bus.js';
import { AgentError, UsageError } from '../../core/errors.js';
import type { TrustedKey } from '../../core/envelope.js';
import { keyIdOf } from '../../fleet/key-id.js';
import { parsePrivateKey } from '../../fleet/manifest-sign.js';
import { fleetBusFactory } from '../../mqtt/fleet-bus.js';
import { fsError, readBytes, readText } from '../../platform/fs.js';
import type { CommandContext, OptionSpec } from '../types.js';

/** Broker flags shared by every MQTT-facing jetson-fleet command; each falls back to the agent config key named. */
export const BROKER_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  broker: { type: 'string', arg: 'URL', description: 'Broker URL (default: mqtt.url of --config).' },
  username: { type: 'string', arg: 'USER', description: 'MQTT user (default: mqtt.username).' },
  password: { type: 'string', arg: 'PASS', description: 'MQTT password (default: mqtt.password; prefer JETSON_FLEET_MQTT_PASSWORD).' },
  'ca-file': { type: 'string', arg: 'FILE', description: 'CA for mqtts:// (default: mqtt.caFile).' },
  'cert-file': { type: 'string', arg: 'FILE', description: 'Client certificate (default: mqtt.certFile).' },
  'key-file': { type: 'string', arg: 'FILE', description: 'Client key (default: mqtt.keyFile).' },
  'topic-prefix': { type: 'string', arg: 'P', description: 'Topic prefix (default: mqtt.topicPrefix, jetson/v1).' },
};

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

async function file(p: string | undefined): Promise<Buffer | undefined> {
  if (!p) return undefined;
  try {
    return await readBytes(p);
  } catch (err) {
    throw fsError('read', p, err);
  }
}

export interface BrokerSetup {
  readonly connect: BusFactory;
  readonly prefix: string;
  readonly url: string;
}

export async function brokerFrom(ctx: CommandContext): Promise<BrokerSetup> {
  const o = ctx.options;
  const cfg = ctx.global.configFile !== undefined || str(o.broker) === undefined ? (await ctx.agent()).config.mqtt : undefined;
  const url = str(o.broker) ?? str(cfg?.url);
  if (!url) throw new UsageError('No broker: pass --broker mqtt://HOST:1883 or a --config with mqtt.url.');
  const password = str(o.password) ?? str(ctx.env.JETSON_FLEET_MQTT_PASSWORD) ?? str(cfg?.password);
  const username = str(o.username) ?? str(cfg?.username);
  const ca = await file(str(o['ca-file']) ?? str(cfg?.caFile));
  const cert = await file(str(o['cert-file']) ?? str(cfg?.certFile));
  const key = await file(str(o['key-file']) ?? str(cfg?.keyFile));
  const connect = fleetBusFactory({
    url,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(cfg ? { protocolVersion: cfg.protocolVersion } : {}),
  });
  return { connect, url, prefix: str(o['topic-prefix']) ?? str(cfg?.topicPrefix) ?? 'jetson/v1' };
}

/** `--public-key FILE` (repeatable) or rollout.fleetPublicKeys of --config. */
export async function trustedKeysFrom(ctx: CommandContext): Promise<TrustedKey[]> {
  const files = Array.isArray(ctx.options['public-key']) ? ctx.options['public-key'].filter((x): x is string => typeof x === 'string') : [];
  if (!files.length) {
    const keys = [...(await ctx.agent()).config.rollout.fleetPublicKeys];
    if (!keys.length) throw new UsageError('No trusted keys: pass --public-key FILE or a --config with rollout.fleetPublicKeys.');
    return keys;
  }
  const out: TrustedKey[] = [];
  for (const f of files) {
    let pem: string;
    try {
      pem = await readText(f);
    } catch (err) {
      throw fsError('read', f, err);
    }
    try {
      out.push({ keyId: keyIdOf(createPublicKey(pem)), publicKey: pem });
    } catch (err) {
      throw new AgentError('FLEET_KEY_INVALID', `${f} is not an Ed25519 public key (${(err as Error).message}).`, { hint: 'Pass NAME.pub from `jetson-fleet keys generate`.', cause: err });
    }
  }
  return out;
}

export async function signingKeyFrom(ctx: CommandContext) {
  const f = str(ctx.options.key);
  if (!f) throw new UsageError('Missing --key PRIVATE (the fleet signing key; rollbacks send signed requests).');
  try {
    return parsePrivateKey(await readText(f), f);
  } catch (err) {
    if (err instanceof AgentError) throw err;
    throw fsError('read', f, err);
  }
}

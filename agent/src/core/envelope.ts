import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import type { TSchema, Static } from '@sinclair/typebox';
import { AgentError } from './errors.js';
import type { SignedEnvelope } from './contracts/topics.js';

/**
 * Signed envelope `{payload: base64(JSON bytes), signature: base64(Ed25519), keyId}` (docs/reference/design-rules.md "Deployments over MQTT").
 * The signature covers the exact payload bytes; they are verified before anything inside is
 * parsed, and never re-serialised (docs/reference/fleet-rollouts.md "Ed25519 signing":
 * verify the exact bytes received). Ed25519 via node:crypto needs algorithm `null` (sign('sha256', …) throws
 * ERR_OSSL_INVALID_DIGEST). Several keys are trusted at once for rotation (docs/reference/fleet-rollouts.md "Recommendations applied" #4).
 */

export interface TrustedKey {
  readonly keyId: string;
  /** PEM (SPKI) or base64url of the raw 32-byte Ed25519 public key. */
  readonly publicKey: string;
}

/** Parse a PEM SPKI or raw-32-byte (base64url/base64) Ed25519 public key. */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    if (trimmed.startsWith('-----BEGIN')) key = createPublicKey(trimmed);
    else {
      const raw = Buffer.from(trimmed, trimmed.includes('+') || trimmed.includes('/') ? 'base64' : 'base64url');
      if (raw.length !== 32) throw new Error(`raw Ed25519 key must be 32 bytes, got ${raw.length}`);
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    }
  } catch (err) {
    throw new AgentError('CONFIG_INVALID', `rollout.fleetPublicKeys: cannot read an Ed25519 public key (${(err as Error).message}).`, {
      hint: 'Give a PEM public key (openssl pkey -pubout) or the base64url raw 32-byte key.',
      cause: err,
    });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AgentError('CONFIG_INVALID', `rollout.fleetPublicKeys: key type ${String(key.asymmetricKeyType)} is not ed25519.`, {
      hint: 'Generate the fleet key with `openssl genpkey -algorithm ed25519`.',
    });
  }
  return key;
}

export class KeyRing {
  private readonly keys = new Map<string, KeyObject>();

  constructor(trusted: readonly TrustedKey[]) {
    for (const k of trusted) this.keys.set(k.keyId, parsePublicKey(k.publicKey));
  }

  get size(): number {
    return this.keys.size;
  }

  get(keyId: string): KeyObject | undefined {
    return this.keys.get(keyId);
  }
}

/** Controller side (and tests): sign exact bytes. */
export function signEnvelope(payload: Uint8Array | string, privateKey: KeyObject | string, keyId: string): SignedEnvelope {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  return { payload: bytes.toString('base64'), signature: sign(null, bytes, key).toString('base64'), keyId };
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Check shape and signature of a raw MQTT message; return the exact signed bytes.
 * Nothing inside the payload is looked at before the signature verifies.
 */
export function verifyEnvelope(raw: Uint8Array | string, keys: KeyRing): Buffer {
  let env: unknown;
  try {
    env = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
  } catch {
    throw new AgentError('MANIFEST_MALFORMED', 'The signed message is not JSON.', { hint: 'Publish the envelope produced by `jetson-fleet` signing.' });
  }
  const e = env as Partial<Record<keyof SignedEnvelope, unknown>> | null;
  if (
    typeof e !== 'object' || e === null || Array.isArray(e) ||
    typeof e.payload !== 'string' || typeof e.signature !== 'string' || typeof e.keyId !== 'string' ||
    !B64.test(e.payload) || !B64.test(e.signature) || e.payload.length === 0
  ) {
    throw new AgentError('MANIFEST_MALFORMED', 'The signed message must be {payload: base64, signature: base64, keyId: string}.', {
      hint: 'Publish the envelope produced by `jetson-fleet` signing, not a bare manifest.',
    });
  }
  const key = keys.get(e.keyId);
  if (!key) {
    throw new AgentError('MANIFEST_UNKNOWN_KEY', `The envelope is signed with keyId "${e.keyId}", which this device does not trust.`, {
      hint: 'Add the fleet public key under rollout.fleetPublicKeys or sign with a trusted key.',
      details: { keyId: e.keyId },
    });
  }
  const bytes = Buffer.from(e.payload, 'base64');
  const sig = Buffer.from(e.signature, 'base64');
  let ok = false;
  try {
    ok = sig.length === 64 && verify(null, bytes, key, sig);
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new AgentError('MANIFEST_BAD_SIGNATURE', `The Ed25519 signature (keyId "${e.keyId}") does not match the payload bytes.`, {
      hint: 'Re-sign the manifest with the fleet private key; a changed byte invalidates the signature.',
      details: { keyId: e.keyId },
    });
  }
  return bytes;
}

/** Parse verified bytes as JSON and check them against a schema (MANIFEST_INVALID lists every problem). */
export function decodeSigned<T extends TSchema>(bytes: Uint8Array, schema: T, what: string): Static<T> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new AgentError('MANIFEST_INVALID', `The signed ${what} is not JSON.`, { hint: 'Sign the JSON bytes of the document.' });
  }
  if (!Value.Check(schema, value)) {
    const problems = [...Value.Errors(schema, value)].slice(0, 10).map((x) => `${x.path || '/'}: ${x.message}`);
    throw new AgentError('MANIFEST_INVALID', `The signed ${what} does not match its schema: ${problems.join('; ')}.`, {
      hint: 'Produce it with the same version of jetson-fleet as the agent (schema v1).',
      details: { problems },
    });
  }
  return value;
}

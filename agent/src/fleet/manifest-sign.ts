import { createPrivateKey, type KeyObject } from 'node:crypto';
import { AgentError } from '../core/errors.js';
import { DeploymentManifestSchema, type DeploymentManifest } from '../core/contracts/manifest.js';
import type { SignedEnvelope } from '../core/contracts/topics.js';
import { decodeSigned, KeyRing, signEnvelope, verifyEnvelope, type TrustedKey } from '../core/envelope.js';
import { keyIdOf } from './key-id.js';

/** Parse a PKCS#8 PEM Ed25519 private key (what `keys generate` writes). */
export function parsePrivateKey(pem: string, file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new AgentError('FLEET_KEY_INVALID', `${file} is not a PEM private key (${(err as Error).message}).`, {
      hint: 'Pass the NAME.key written by `jetson-fleet keys generate`.',
      cause: err,
    });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AgentError('FLEET_KEY_INVALID', `${file} is a ${String(key.asymmetricKeyType)} key, not Ed25519.`, { hint: 'Generate the signing key with `jetson-fleet keys generate`.' });
  }
  return key;
}

/** Sign the manifest's JSON bytes; key id derived from the key itself (key-id.ts). */
export function signManifest(manifest: DeploymentManifest, key: KeyObject): SignedEnvelope {
  return signEnvelope(JSON.stringify(manifest), key, keyIdOf(key));
}

/** Verify an envelope exactly as a device does (same code path), then the schema. */
export function verifyManifest(raw: string | Uint8Array, trusted: readonly TrustedKey[]): DeploymentManifest {
  const bytes = verifyEnvelope(raw, new KeyRing(trusted));
  return decodeSigned(bytes, DeploymentManifestSchema, 'deployment manifest');
}

import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** The raw 32-byte Ed25519 public key (RFC 8032), from any public or private KeyObject or PEM. */
export function rawEd25519PublicKey(key: KeyObject | string): Buffer {
  // createPublicKey() derives from private keys and PEM but refuses a public KeyObject.
  const pub = typeof key !== 'string' && key.type === 'public' ? key : createPublicKey(key);
  if (pub.asymmetricKeyType !== 'ed25519') throw new TypeError(`expected an Ed25519 key, got ${pub.asymmetricKeyType ?? 'unknown'}`);
  const jwk = pub.export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url');
}

/**
 * Key id = first 16 hex digits of sha256(raw 32-byte public key). Derived from the key
 * itself, so the same key always has the same id whichever machine computes it (PEM
 * line-wrapping or SPKI framing do not change it), and manifests name the key they were
 * signed with without carrying it.
 */
export function keyIdOf(key: KeyObject | string): string {
  return createHash('sha256').update(rawEd25519PublicKey(key)).digest('hex').slice(0, 16);
}

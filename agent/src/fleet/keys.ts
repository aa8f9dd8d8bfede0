import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { exists, fsError, mkdirp, writeFileAtomic } from '../platform/fs.js';
import { keyIdOf } from './key-id.js';

export interface GenerateKeyOptions {
  readonly outDir: string;
  /** File stem: NAME.key (private) and NAME.pub (public). */
  readonly name?: string;
  readonly force?: boolean;
}

export interface GeneratedKey {
  readonly keyId: string;
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
  /** SPKI PEM: what devices list in rollout.fleetPublicKeys. */
  readonly publicKeyPem: string;
}

/**
 * Generate an Ed25519 fleet signing key (docs/reference/fleet-rollouts.md "Ed25519 signing"). The private key is PKCS#8 PEM
 * written atomically with mode 0600 (the mode is set before the rename, so it is never
 * readable by others, whatever the umask); the directory is created 0700 when missing.
 * Existing key files are kept unless `force`: overwriting a signing key strands every
 * device that trusts only the old one.
 */
export async function generateFleetKey(options: GenerateKeyOptions): Promise<GeneratedKey> {
  const name = options.name ?? 'fleet';
  const privateKeyPath = path.resolve(options.outDir, `${name}.key`);
  const publicKeyPath = path.resolve(options.outDir, `${name}.pub`);
  try {
    await mkdirp(options.outDir, 0o700);
  } catch (err) {
    throw fsError('create', options.outDir, err);
  }
  if (!options.force) {
    const present = [];
    for (const p of [privateKeyPath, publicKeyPath]) if (await exists(p)) present.push(p);
    if (present.length) {
      throw new AgentError('FLEET_KEY_EXISTS', `Key file(s) already exist: ${present.join(', ')}.`, {
        hint: 'Use another --out directory or --name, or pass --force once no device config needs the old key.',
        details: { files: present },
      });
    }
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  try {
    await writeFileAtomic(privateKeyPath, privatePem, { mode: 0o600 });
    await writeFileAtomic(publicKeyPath, publicKeyPem, { mode: 0o644 });
  } catch (err) {
    throw fsError('write the key to', options.outDir, err);
  }
  return { keyId: keyIdOf(publicKey), privateKeyPath, publicKeyPath, publicKeyPem };
}

import { stringify } from 'yaml';
import { UsageError } from '../../core/errors.js';
import { generateFleetKey } from '../../fleet/keys.js';
import type { CommandSpec } from '../types.js';

export const fleetKeysGenerateCommand: CommandSpec = {
  path: ['keys', 'generate'],
  summary: 'Generate an Ed25519 manifest signing key (private key 0600) and print its key id and device config snippet.',
  description:
    'Writes NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub (SPKI PEM) into --out, refusing to overwrite existing keys without --force. ' +
    'The key id is the first 16 hex digits of sha256 of the raw public key. Paste the printed snippet into every device config; ' +
    'devices accept any key in rollout.fleetPublicKeys, so rotate by adding the new key everywhere before signing with it.',
  options: {
    out: { type: 'string', arg: 'DIR', description: 'Directory for the key files (created 0700 when missing).' },
    name: { type: 'string', arg: 'NAME', description: 'File name stem (default fleet → fleet.key, fleet.pub).' },
    force: { type: 'boolean', description: 'Overwrite existing key files.' },
  },
  examples: ['jetson-fleet keys generate --out ~/.config/jetson-fleet/keys', 'jetson-fleet keys generate --out keys --name fleet-2027 --json'],
  async run(ctx) {
    const out = ctx.options.out;
    if (typeof out !== 'string' || out === '') throw new UsageError('Missing --out DIR.', 'Example: jetson-fleet keys generate --out ./keys');
    const name = typeof ctx.options.name === 'string' ? ctx.options.name : undefined;
    if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new UsageError(`Bad --name "${name}": use letters, digits, ".", "_" and "-".`);
    const key = await generateFleetKey({ outDir: out, force: ctx.options.force === true, ...(name ? { name } : {}) });
    const config = { rollout: { fleetPublicKeys: [{ keyId: key.keyId, publicKey: key.publicKeyPem }] } };
    ctx.out.result({ keyId: key.keyId, privateKeyPath: key.privateKeyPath, publicKeyPath: key.publicKeyPath, publicKey: key.publicKeyPem, config });
    ctx.out.print(
      [
        `key id:      ${key.keyId}`,
        `private key: ${key.privateKeyPath} (mode 0600; keep it off the devices)`,
        `public key:  ${key.publicKeyPath}`,
        '',
        '# Add to every device config (/etc/jetson-agent/config.yaml); keep old keys listed until no manifest signed with them is live:',
        stringify(config).trimEnd(),
      ].join('\n'),
    );
  },
};

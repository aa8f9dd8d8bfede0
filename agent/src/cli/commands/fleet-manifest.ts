import { createPublicKey } from 'node:crypto';
import { AgentError, UsageError } from '../../core/errors.js';
import type { TrustedKey } from '../../core/envelope.js';
import { parseDuration } from '../../fleet/duration.js';
import { keyIdOf } from '../../fleet/key-id.js';
import { buildManifest } from '../../fleet/manifest.js';
import { parsePrivateKey, signManifest, verifyManifest } from '../../fleet/manifest-sign.js';
import { readPackageInfo } from '../../fleet/package-info.js';
import { parseRequires } from '../../fleet/requirements.js';
import { fsError, readText, writeFileAtomic } from '../../platform/fs.js';
import type { CommandSpec } from '../types.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

async function read(file: string): Promise<string> {
  try {
    return await readText(file);
  } catch (err) {
    throw fsError('read', file, err);
  }
}

export const fleetManifestCreateCommand: CommandSpec = {
  path: ['manifest', 'create'],
  summary: 'Make a signed deployment manifest for a model package (sha256, size, model from model.json, expiry, anti-replay sequence).',
  description:
    'Reads the package tar (model.json for name/version), hashes it, and signs the manifest payload (contracts/manifest.ts) with the Ed25519 key. ' +
    'The sequence defaults to issuedAt in milliseconds, so a manifest made later always supersedes an earlier one and an old one replayed is refused by devices.',
  options: {
    package: { type: 'string', arg: 'PKG.tar', description: 'Model package tar (model.json at its root).' },
    url: { type: 'string', arg: 'URL', description: 'Where devices download the package (http://, https://, file://).' },
    requires: {
      type: 'string',
      multiple: true,
      arg: 'KEY=VALUE',
      description: 'soc=…, cudaArch=…, tensorrt=RANGE, jetpack=RANGE, minFreeDisk=SIZE, plugins=NAME,… (a TAO .etlt ending in BatchedNMS adds plugins=BatchedNMS_TRT by itself).',
    },
    probation: { type: 'string', arg: 'DUR', description: 'Healthy serving time before a device reports active (default: device config).' },
    expires: { type: 'string', arg: 'DUR', description: 'Manifest lifetime (default 7d).' },
    'deployment-id': { type: 'string', arg: 'ID', description: 'Default NAME-VERSION-TIMESTAMP.' },
    key: { type: 'string', arg: 'PRIVATE', description: 'Ed25519 private key (NAME.key from keys generate).' },
    out: { type: 'string', arg: 'M.json', description: 'Write the signed envelope here (default: stdout).' },
  },
  examples: ['jetson-fleet manifest create --package yolo-1.2.tar --url https://pkg.example/yolo-1.2.tar --requires cudaArch=72,87 --key keys/fleet.key --out yolo-1.2.json'],
  async run(ctx) {
    const pkg = str(ctx.options.package);
    const url = str(ctx.options.url);
    const keyFile = str(ctx.options.key);
    if (!pkg || !url || !keyFile) throw new UsageError('manifest create needs --package, --url and --key.', 'Example: jetson-fleet manifest create --package m.tar --url https://host/m.tar --key fleet.key --out m.json');
    const items = Array.isArray(ctx.options.requires) ? ctx.options.requires.filter((x): x is string => typeof x === 'string') : [];
    const probation = str(ctx.options.probation);
    const probationMs = probation !== undefined ? parseDuration(probation, '--probation') : undefined;
    const key = parsePrivateKey(await read(keyFile), keyFile);
    const info = await readPackageInfo(pkg);
    const id = str(ctx.options['deployment-id']);
    const given = items.length ? parseRequires(items) : {};
    // What model.json implies joins what --requires names: a TensorRT 11 board then refuses the
    // package before downloading it (TENSORRT_PLUGIN_REMOVED) instead of failing at conversion.
    const plugins = [...new Set([...(given.plugins ?? []), ...info.plugins])];
    const requires = { ...given, ...(plugins.length ? { plugins } : {}) };
    const manifest = buildManifest({
      now: Date.now(),
      expiresInMs: parseDuration(str(ctx.options.expires) ?? '7d', '--expires'),
      url,
      sha256: info.sha256,
      size: info.size,
      model: info.model,
      ...(Object.keys(requires).length ? { requires } : {}),
      ...(probationMs !== undefined ? { probationSec: Math.round(probationMs / 1000) } : {}),
      ...(id ? { deploymentId: id } : {}),
    });
    const envelope = signManifest(manifest, key);
    const text = JSON.stringify(envelope, null, 2) + '\n';
    const out = str(ctx.options.out);
    if (out) {
      try {
        await writeFileAtomic(out, text, { mode: 0o644 });
      } catch (err) {
        throw fsError('write', out, err);
      }
    }
    ctx.out.result({ file: out ?? null, keyId: envelope.keyId, manifest, ...(out ? {} : { envelope }) });
    if (out) ctx.out.print(`${out}: deployment ${manifest.deploymentId} (${manifest.model.name} ${manifest.model.version}), key ${envelope.keyId}, expires ${manifest.expiresAt}`);
    else ctx.out.print(text.trimEnd());
  },
};

export const fleetManifestVerifyCommand: CommandSpec = {
  path: ['manifest', 'verify'],
  summary: 'Verify a signed manifest the way a device does (signature, schema, expiry) and print it.',
  options: {
    'public-key': { type: 'string', multiple: true, arg: 'FILE', description: 'Trusted Ed25519 public key PEM (repeatable).' },
  },
  positionals: [{ name: 'M.json', required: true, description: 'Signed envelope file.' }],
  examples: ['jetson-fleet manifest verify yolo-1.2.json --public-key keys/fleet.pub', 'jetson-fleet manifest verify yolo-1.2.json --config /etc/jetson-agent/config.yaml'],
  async run(ctx) {
    const file = ctx.positionals[0];
    if (!file) throw new UsageError('Missing the manifest file.', 'Example: jetson-fleet manifest verify m.json --public-key fleet.pub');
    const files = Array.isArray(ctx.options['public-key']) ? ctx.options['public-key'].filter((x): x is string => typeof x === 'string') : [];
    let trusted: TrustedKey[];
    if (files.length) {
      trusted = [];
      for (const f of files) {
        const pem = await read(f);
        let keyId: string;
        try {
          keyId = keyIdOf(createPublicKey(pem));
        } catch (err) {
          throw new AgentError('FLEET_KEY_INVALID', `${f} is not an Ed25519 public key (${(err as Error).message}).`, { hint: 'Pass NAME.pub from `jetson-fleet keys generate`.', cause: err });
        }
        trusted.push({ keyId, publicKey: pem });
      }
    } else {
      const env = await ctx.agent();
      trusted = [...env.config.rollout.fleetPublicKeys];
      if (!trusted.length) throw new UsageError('No trusted keys: pass --public-key FILE or a --config with rollout.fleetPublicKeys.');
    }
    const manifest = verifyManifest(await read(file), trusted);
    const expired = Date.parse(manifest.expiresAt) <= Date.now();
    if (expired) {
      throw new AgentError('MANIFEST_EXPIRED', `Manifest ${manifest.deploymentId} expired at ${manifest.expiresAt}; devices will reject it.`, {
        hint: 'Create a new manifest with `jetson-fleet manifest create` (a later sequence supersedes this one).',
      });
    }
    ctx.out.result({ ok: true, manifest });
    ctx.out.print(`OK: ${manifest.deploymentId} ${manifest.model.name} ${manifest.model.version}, sha256 ${manifest.package.sha256}, sequence ${manifest.sequence}, expires ${manifest.expiresAt}`);
  },
};

import t from 'tap';
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { keyIdOf } from '../../../agent/src/fleet/key-id.js';
import { FLEET_JS, runCli } from '../../helpers/cli.js';

interface KeysJson {
  keyId: string;
  privateKeyPath: string;
  publicKeyPath: string;
  publicKey: string;
  config: { rollout: { fleetPublicKeys: { keyId: string; publicKey: string }[] } };
}

t.test('keys generate writes a 0600 Ed25519 private key, the public key and a pasteable snippet', async (t) => {
  const dir = path.join(t.testdir(), 'keys'); // does not exist yet: created 0700
  const r = await runCli(['keys', 'generate', '--out', dir, '--json'], { script: FLEET_JS });
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as KeysJson;
  t.equal(out.privateKeyPath, path.join(dir, 'fleet.key'));
  t.equal(statSync(out.privateKeyPath).mode & 0o777, 0o600, 'private key is 0600');
  t.equal(statSync(dir).mode & 0o777, 0o700, 'new key directory is 0700');
  const priv = createPrivateKey(readFileSync(out.privateKeyPath));
  t.equal(priv.asymmetricKeyType, 'ed25519');
  const pub = createPublicKey(readFileSync(out.publicKeyPath));
  t.equal(out.publicKey, readFileSync(out.publicKeyPath, 'utf8'));

  // Key id = first 16 hex of sha256(raw 32-byte key): recomputed here from the JWK, independently.
  const raw = Buffer.from(pub.export({ format: 'jwk' }).x ?? '', 'base64url');
  t.equal(raw.length, 32);
  t.equal(out.keyId, createHash('sha256').update(raw).digest('hex').slice(0, 16));
  t.equal(keyIdOf(priv), out.keyId, 'same id from the private key');

  // The pair works for Ed25519 signatures (algorithm null, docs/reference/fleet-rollouts.md "Ed25519 signing").
  const msg = Buffer.from('{"deploymentId":"d1"}');
  const sig = sign(null, msg, priv);
  t.ok(verify(null, msg, createPublicKey(out.config.rollout.fleetPublicKeys[0]?.publicKey ?? ''), sig));
  t.notOk(verify(null, Buffer.from('{"deploymentId":"d2"}'), pub, sig));

  // Human output: key id and a YAML snippet that parses to the config shape; no private key material.
  const human = await runCli(['keys', 'generate', '--out', dir, '--name', 'second'], { script: FLEET_JS });
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /key id: +[0-9a-f]{16}/);
  const yamlPart = human.stdout.slice(human.stdout.indexOf('rollout:'));
  const snippet = parse(yamlPart) as KeysJson['config'];
  t.match(snippet.rollout.fleetPublicKeys[0]?.publicKey, /^-----BEGIN PUBLIC KEY-----/);
  t.notMatch(human.stdout + human.stderr, /PRIVATE KEY/);
});

t.test('keys generate refuses to overwrite without --force', async (t) => {
  const dir = t.testdir();
  const first = await runCli(['keys', 'generate', '--out', dir, '--json'], { script: FLEET_JS });
  t.equal(first.code, 0, first.stderr);
  const before = readFileSync(path.join(dir, 'fleet.key'), 'utf8');
  const again = await runCli(['keys', 'generate', '--out', dir], { script: FLEET_JS });
  t.equal(again.code, 1);
  t.match(again.stderr, /FLEET_KEY_EXISTS: Key file\(s\) already exist: .*fleet\.key/);
  t.match(again.stderr, /--force/);
  t.equal(readFileSync(path.join(dir, 'fleet.key'), 'utf8'), before, 'old key untouched');
  const forced = await runCli(['keys', 'generate', '--out', dir, '--force', '--json'], { script: FLEET_JS });
  t.equal(forced.code, 0, forced.stderr);
  t.not(readFileSync(path.join(dir, 'fleet.key'), 'utf8'), before, 'replaced with --force');
  t.not((JSON.parse(forced.stdout) as KeysJson).keyId, (JSON.parse(first.stdout) as KeysJson).keyId);
  t.equal(statSync(path.join(dir, 'fleet.key')).mode & 0o777, 0o600);
});

t.test('keys generate usage errors', async (t) => {
  const noOut = await runCli(['keys', 'generate'], { script: FLEET_JS });
  t.equal(noOut.code, 2);
  t.match(noOut.stderr, /USAGE: Missing --out DIR/);
  const badName = await runCli(['keys', 'generate', '--out', t.testdir(), '--name', '../x'], { script: FLEET_JS });
  t.equal(badName.code, 2);
});

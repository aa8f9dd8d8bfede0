import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { create } from 'tar';
import path from 'node:path';
import { DeploymentManifestSchema } from '../../../agent/src/core/contracts/manifest.js';
import { decodeSigned, KeyRing, verifyEnvelope } from '../../../agent/src/core/envelope.js';
import { FLEET_JS, runCli } from '../../helpers/cli.js';
import { makeModelPackage } from '../../helpers/model-package.js';

async function keys(dir: string, name: string): Promise<{ keyId: string; key: string; pub: string; publicKey: string }> {
  const r = await runCli(['keys', 'generate', '--out', dir, '--name', name, '--json'], { script: FLEET_JS });
  const j = JSON.parse(r.stdout) as { keyId: string; privateKeyPath: string; publicKeyPath: string; publicKey: string };
  return { keyId: j.keyId, key: j.privateKeyPath, pub: j.publicKeyPath, publicKey: j.publicKey };
}

t.test('manifest create signs what the device verifies; verify accepts it and refuses tampering or unknown keys', async (t) => {
  const dir = t.testdir();
  const pkg = await makeModelPackage(dir);
  const k = await keys(path.join(dir, 'keys'), 'fleet');
  const other = await keys(path.join(dir, 'keys'), 'other');
  const out = path.join(dir, 'm.json');
  const before = Date.now();
  const r = await runCli(
    ['manifest', 'create', '--package', pkg, '--url', 'https://pkg.example/p.tar', '--requires', 'cudaArch=72,87', '--requires', 'tensorrt=>=8.5 <9', '--probation', '2m', '--expires', '1d', '--key', k.key, '--out', out],
    { script: FLEET_JS },
  );
  t.equal(r.code, 0, r.stderr);
  // The device's own verification path (core/envelope.ts) accepts it and the schema matches.
  const bytes = verifyEnvelope(readFileSync(out), new KeyRing([{ keyId: k.keyId, publicKey: k.publicKey }]));
  const m = decodeSigned(bytes, DeploymentManifestSchema, 'manifest');
  t.equal(m.package.sha256, createHash('sha256').update(readFileSync(pkg)).digest('hex'));
  t.equal(m.package.size, readFileSync(pkg).length);
  t.same(m.model, { name: 'peoplenet', version: '1.2.0' });
  t.same(m.requires, { cudaArchs: [72, 87], tensorrt: { min: '8.5', max: '9' } });
  t.same(m.policy, { probationSec: 120 });
  t.ok(m.sequence >= before, 'sequence is issuedAt in ms');
  t.equal(Date.parse(m.expiresAt) - Date.parse(m.issuedAt), 86_400_000);

  const ok = await runCli(['manifest', 'verify', out, '--public-key', k.pub], { script: FLEET_JS });
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /^OK: peoplenet-1\.2\.0-/);

  const wrong = await runCli(['manifest', 'verify', out, '--public-key', other.pub], { script: FLEET_JS });
  t.equal(wrong.code, 1);
  t.match(wrong.stderr, /MANIFEST_UNKNOWN_KEY/);

  const env = JSON.parse(readFileSync(out, 'utf8')) as { payload: string };
  const tampered = Buffer.from(env.payload, 'base64').toString().replace('https://pkg.example/p.tar', 'https://evil.example/p.tar');
  writeFileSync(path.join(dir, 't.json'), JSON.stringify({ ...env, payload: Buffer.from(tampered).toString('base64') }));
  const bad = await runCli(['manifest', 'verify', path.join(dir, 't.json'), '--public-key', k.pub], { script: FLEET_JS });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /MANIFEST_BAD_SIGNATURE/);
});

t.test('manifest create: a TAO .etlt ending in BatchedNMS adds requires.plugins, so TensorRT 11 devices refuse it before downloading', async (t) => {
  const dir = t.testdir();
  const src = path.join(dir, 'src');
  mkdirSync(src);
  writeFileSync(path.join(src, 'model.json'), JSON.stringify({ schemaVersion: 1, name: 'yolo', version: '3.0', network: 'yolov3', format: 'etlt', file: 'm.etlt', outputs: ['BatchedNMS'] }));
  writeFileSync(path.join(src, 'm.etlt'), Buffer.alloc(64, 1));
  const pkg = path.join(dir, 'yolo.tar');
  await create({ file: pkg, cwd: src }, ['model.json', 'm.etlt']);
  const k = await keys(path.join(dir, 'keys'), 'fleet');
  const out = path.join(dir, 'm.json');
  const r = await runCli(['manifest', 'create', '--package', pkg, '--url', 'https://x/yolo.tar', '--requires', 'plugins=ResizeNearest_TRT', '--key', k.key, '--out', out], { script: FLEET_JS });
  t.equal(r.code, 0, r.stderr);
  const m = decodeSigned(verifyEnvelope(readFileSync(out), new KeyRing([{ keyId: k.keyId, publicKey: k.publicKey }])), DeploymentManifestSchema, 'manifest');
  t.same(m.requires, { plugins: ['ResizeNearest_TRT', 'BatchedNMS_TRT'] }, '--requires plugins and what model.json implies');
  const bad = await runCli(['manifest', 'create', '--package', pkg, '--url', 'https://x/yolo.tar', '--requires', 'plugins=Batched NMS', '--key', k.key], { script: FLEET_JS });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /"Batched NMS" is not a TensorRT plugin creator name/);
});

t.test('manifest create refuses a tar without model.json and a range a manifest cannot carry', async (t) => {
  const dir = t.testdir({ 'junk.tar': 'not a tar at all' });
  const k = await keys(path.join(dir, 'keys'), 'fleet');
  const junk = await runCli(['manifest', 'create', '--package', path.join(dir, 'junk.tar'), '--url', 'https://x/p.tar', '--key', k.key], { script: FLEET_JS });
  t.equal(junk.code, 1);
  t.match(junk.stderr, /FLEET_PACKAGE_INVALID/);
  const pkg = await makeModelPackage(dir);
  const range = await runCli(['manifest', 'create', '--package', pkg, '--url', 'https://x/p.tar', '--requires', 'tensorrt=>8.5', '--key', k.key], { script: FLEET_JS });
  t.equal(range.code, 2);
  t.match(range.stderr, /cannot go into a manifest/);
});

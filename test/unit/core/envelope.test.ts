import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { decodeSigned, KeyRing, signEnvelope, verifyEnvelope } from '../../../agent/src/core/envelope.js';
import { DeploymentManifestSchema } from '../../../agent/src/core/contracts/manifest.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import { deviceTopics, groupDesiredTopic, parseTopic } from '../../../agent/src/core/contracts/topics.js';

const fleet = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const pem = fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const raw = Buffer.from(fleet.publicKey.export({ format: 'jwk' }).x ?? '', 'base64url').toString('base64url');

const manifest = {
  v: 1,
  deploymentId: 'dep-1',
  issuedAt: '2026-11-27T00:00:00Z',
  expiresAt: '2026-11-28T00:00:00Z',
  sequence: 1,
  package: { url: 'https://example.test/p.tar', sha256: 'a'.repeat(64), size: 10 },
  model: { name: 'peoplenet', version: '1.0.0' },
};

function code(fn: () => unknown): string {
  try {
    fn();
    return 'none';
  } catch (err) {
    return err instanceof AgentError ? err.code : 'not-agent-error';
  }
}

t.test('sign → verify returns the exact signed bytes (PEM and raw keys)', async (t) => {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const env = signEnvelope(bytes, fleet.privateKey, 'fleet-2026');
  for (const key of [pem, raw]) {
    const ring = new KeyRing([{ keyId: 'fleet-2026', publicKey: key }]);
    t.same(verifyEnvelope(JSON.stringify(env), ring), bytes);
  }
  const ring = new KeyRing([{ keyId: 'fleet-2026', publicKey: pem }]);
  t.same(decodeSigned(verifyEnvelope(JSON.stringify(env), ring), DeploymentManifestSchema, 'manifest'), manifest);
});

t.test('rotation: any trusted key id verifies', async (t) => {
  const ring = new KeyRing([
    { keyId: 'old', publicKey: other.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
    { keyId: 'new', publicKey: pem },
  ]);
  t.ok(verifyEnvelope(JSON.stringify(signEnvelope('{}', other.privateKey, 'old')), ring));
  t.ok(verifyEnvelope(JSON.stringify(signEnvelope('{}', fleet.privateKey, 'new')), ring));
});

t.test('tampering, wrong key, unknown key id, malformed envelope, bad schema', async (t) => {
  const ring = new KeyRing([{ keyId: 'k', publicKey: pem }]);
  const env = signEnvelope(JSON.stringify(manifest), fleet.privateKey, 'k');
  const bytes = Buffer.from(env.payload, 'base64');
  bytes[5] = (bytes[5] ?? 0) ^ 1;
  t.equal(code(() => verifyEnvelope(JSON.stringify({ ...env, payload: bytes.toString('base64') }), ring)), 'MANIFEST_BAD_SIGNATURE');
  t.equal(code(() => verifyEnvelope(JSON.stringify(signEnvelope('{}', other.privateKey, 'k')), ring)), 'MANIFEST_BAD_SIGNATURE');
  t.equal(code(() => verifyEnvelope(JSON.stringify({ ...env, signature: 'AAAA' }), ring)), 'MANIFEST_BAD_SIGNATURE');
  t.equal(code(() => verifyEnvelope(JSON.stringify({ ...env, keyId: 'x' }), ring)), 'MANIFEST_UNKNOWN_KEY');
  t.equal(code(() => verifyEnvelope(JSON.stringify(manifest), ring)), 'MANIFEST_MALFORMED');
  t.equal(code(() => verifyEnvelope('not json', ring)), 'MANIFEST_MALFORMED');
  t.equal(code(() => verifyEnvelope('null', ring)), 'MANIFEST_MALFORMED');
  const badSchema = signEnvelope(JSON.stringify({ ...manifest, sequence: 'one' }), fleet.privateKey, 'k');
  t.equal(code(() => decodeSigned(verifyEnvelope(JSON.stringify(badSchema), ring), DeploymentManifestSchema, 'manifest')), 'MANIFEST_INVALID');
  t.equal(code(() => new KeyRing([{ keyId: 'x', publicKey: 'abc' }])), 'CONFIG_INVALID');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  t.equal(code(() => new KeyRing([{ keyId: 'x', publicKey: rsa }])), 'CONFIG_INVALID');
});

t.test('topic builders and parser are inverse', async (t) => {
  const d = deviceTopics('jetson/v1', 'nano-01');
  t.equal(d.status.topic, 'jetson/v1/devices/nano-01/status');
  t.equal(d.request('ping').topic, 'jetson/v1/devices/nano-01/request/ping');
  t.equal(d.requestFilter, 'jetson/v1/devices/nano-01/request/+');
  t.same(parseTopic('jetson/v1', d.deployment.topic), { kind: 'deployment', deviceId: 'nano-01' });
  t.same(parseTopic('jetson/v1', d.response('rollback').topic), { kind: 'response', deviceId: 'nano-01', op: 'rollback' });
  t.same(parseTopic('jetson/v1', groupDesiredTopic('jetson/v1', 'lab').topic), { kind: 'groupDesired', group: 'lab' });
  t.equal(parseTopic('jetson/v1', 'jetson/v1/devices/x/other'), null);
  t.equal(parseTopic('jetson/v1', 'other/devices/x/status'), null);
  t.throws(() => deviceTopics('p', 'a/b'));
  t.throws(() => deviceTopics('p', '#'));
  t.throws(() => groupDesiredTopic('p', 'a+'));
});

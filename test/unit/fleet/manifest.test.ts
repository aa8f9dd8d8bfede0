import t from 'tap';
import { Value } from '@sinclair/typebox/value';
import { DeploymentManifestSchema } from '../../../agent/src/core/contracts/manifest.js';
import { buildManifest, fromManifestRequires, toManifestRequires, toVersionRange } from '../../../agent/src/fleet/manifest.js';

t.test('version ranges the manifest can carry (inclusive min, exclusive max)', async (t) => {
  const table: [string, object][] = [
    ['>=8.5 <9', { min: '8.5', max: '9' }],
    ['>=8.5', { min: '8.5' }],
    ['<9', { max: '9' }],
    ['8.5', { min: '8.5', max: '8.6' }],
    ['5.1.2', { min: '5.1.2', max: '5.1.3' }],
  ];
  for (const [text, want] of table) t.same(toVersionRange(text, 'tensorrt'), want, text);
  for (const bad of ['>8.5', '<=9', '=8.5', '>=x']) t.throws(() => toVersionRange(bad, 'tensorrt'), /cannot go into a manifest/, bad);
});

t.test('requires round-trips between the CLI form and the manifest form', async (t) => {
  const r = { soc: ['tegra234'], cudaArch: [72, 87], tensorrt: '>=8.5 <9', jetpack: '>=5.1', minFreeDiskBytes: 2 ** 31 };
  const m = toManifestRequires(r);
  t.same(m, { socs: ['tegra234'], cudaArchs: [72, 87], tensorrt: { min: '8.5', max: '9' }, jetpack: { min: '5.1' }, minFreeDiskBytes: 2 ** 31 });
  t.same(fromManifestRequires(m), r);
  t.same(fromManifestRequires(undefined), {});
});

t.test('buildManifest matches the device schema; sequence is issuedAt ms; default id', async (t) => {
  const now = Date.parse('2027-03-01T10:20:30.456Z');
  const m = buildManifest({ now, expiresInMs: 3_600_000, url: 'https://x/p.tar', sha256: 'b'.repeat(64), size: 10, model: { name: 'yolo', version: '2.1' }, probationSec: 90 });
  t.ok(Value.Check(DeploymentManifestSchema, m), [...Value.Errors(DeploymentManifestSchema, m)].map((e) => e.message).join());
  t.equal(m.deploymentId, 'yolo-2.1-20270301T102030Z');
  t.equal(m.sequence, now);
  t.equal(m.expiresAt, '2027-03-01T11:20:30.456Z');
  t.same(m.policy, { probationSec: 90 });
  t.notOk('requires' in m, 'no empty requires');
  t.throws(() => buildManifest({ now, expiresInMs: 1, url: 'ftp://x', sha256: 'b'.repeat(64), size: 1, model: { name: 'a', version: '1' } }), /Bad --url/);
});

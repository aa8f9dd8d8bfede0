import t from 'tap';
import { incompatibilities, interleaveBySoc, parseTargetSelector, resolveTargets } from '../../../agent/src/fleet/targets.js';
import { satisfies } from '../../../agent/src/fleet/versions.js';
import type { DeviceRecord, Requirements } from '../../../agent/src/fleet/types.js';

const GiB = 2 ** 30;
const dev = (id: string, soc: string | null, arch: number | null, trt: string | null, jp: string | null, online: boolean, groups: string[], disk: number | null): DeviceRecord => ({
  id,
  online,
  lastSeen: online ? 1000 : 10,
  groups,
  board: { soc, cudaArch: arch, tensorrt: trt, jetpack: jp },
  freeDiskBytes: disk,
});

const FLEET: DeviceRecord[] = [
  dev('nano1', 'tegra210', 53, '8.2.1', '4.6', true, ['lab'], 5 * GiB),
  dev('xav1', 'tegra194', 72, '8.5.2.2', '5.1', true, ['lab', 'prod'], 10 * GiB),
  dev('xav2', 'tegra194', 72, '8.5.2', '5.1', false, ['prod'], null),
  dev('orin1', 'tegra234', 87, '8.5.2', '5.1.1', true, ['prod'], 1 * GiB),
  dev('x86', null, null, null, null, true, ['lab'], 50 * GiB),
];
const REQ: Requirements = { cudaArch: [72, 87], tensorrt: '>=8.5 <9', minFreeDiskBytes: 2 * GiB };

t.test('versions: ranges and prefixes', async (t) => {
  const table: [string, string, boolean][] = [
    ['8.5.2.2', '>=8.5 <9', true],
    ['9.0', '>=8.5 <9', false],
    ['8.4.9', '>=8.5 <9', false],
    ['8.5.2', '8.5', true],
    ['8.6.1', '8.5', false],
    ['8.50', '8.5', false],
    ['5.1.0', '=5.1', true],
    ['8.2.1', '>8.2.1', false],
    ['8.2.1', '<=8.2.1', true],
    ['8.5a', '>=8', false],
  ];
  for (const [v, r, ok] of table) t.equal(satisfies(v, r), ok, `${v} in "${r}"`);
  t.throws(() => satisfies('8.5', '>=x'), { code: 'USAGE' });
});

t.test('parseTargetSelector', async (t) => {
  t.same(parseTargetSelector('all'), { kind: 'all' });
  t.same(parseTargetSelector('group:lab'), { kind: 'group', group: 'lab' });
  t.same(parseTargetSelector('devices:a, b,a'), { kind: 'devices', ids: ['a', 'b'] });
  for (const bad of ['', 'group:', 'devices:', 'everything', 'lab']) t.throws(() => parseTargetSelector(bad), { code: 'USAGE' }, bad);
});

t.test('incompatibilities names every unmet requirement', async (t) => {
  const byId = (id: string): DeviceRecord => {
    const d = FLEET.find((x) => x.id === id);
    if (!d) throw new Error(`no fixture ${id}`);
    return d;
  };
  t.same(incompatibilities(byId('xav1'), REQ), []);
  t.same(incompatibilities(byId('nano1'), REQ), ['CUDA arch 53 not in 72|87', 'TensorRT 8.2.1 not in ">=8.5 <9"']);
  t.same(incompatibilities(byId('orin1'), REQ), ['free disk 1.0 GiB < 2.0 GiB']);
  t.same(incompatibilities(byId('x86'), REQ), ['CUDA arch unknown not in 72|87', 'TensorRT unknown not in ">=8.5 <9"']);
  t.same(incompatibilities(byId('xav2'), REQ), [], 'unknown free disk does not skip: the device preflights space itself');
  t.same(incompatibilities(byId('orin1'), { soc: ['tegra194'], jetpack: '5.1' }), ['SoC tegra234 not in tegra194'], 'JetPack 5.1.1 matches prefix 5.1');
  t.same(incompatibilities(byId('x86'), {}), [], 'no requirements: everything fits');
});

t.test('resolveTargets: online first, offline pending, skipped with reasons', async (t) => {
  const all = resolveTargets({ kind: 'all' }, FLEET, REQ);
  t.same(all.online, ['xav1']);
  t.same(all.offline, ['xav2']);
  t.same(
    all.skipped.map((s) => [s.id, s.reason]),
    [
      ['nano1', 'incompatible'],
      ['orin1', 'incompatible'],
      ['x86', 'incompatible'],
    ],
  );
  const lab = resolveTargets({ kind: 'group', group: 'lab' }, FLEET, {});
  t.same([...lab.online].sort(), ['nano1', 'x86', 'xav1']);
  t.same(lab.offline, []);
  const named = resolveTargets({ kind: 'devices', ids: ['xav2', 'ghost'] }, FLEET, REQ);
  t.same(named.online, []);
  t.same(named.offline, ['xav2']);
  t.same(named.skipped, [{ id: 'ghost', reason: 'unknown-device', details: ['no status was ever seen from this device'] }]);
  const none = resolveTargets({ kind: 'group', group: 'nope' }, FLEET, REQ);
  t.same(none, { online: [], offline: [], skipped: [] });
});

t.test('resolveTargets: an all-offline fleet is all pending, nothing skipped', async (t) => {
  const offline = FLEET.map((d) => ({ ...d, online: false }));
  const r = resolveTargets({ kind: 'group', group: 'lab' }, offline, {});
  t.same(r.online, []);
  t.equal(r.offline.length, 3);
  t.same(r.skipped, []);
});

t.test('interleaveBySoc spreads SoCs over the first waves', async (t) => {
  const d = (id: string, soc: string | null): DeviceRecord => dev(id, soc, 72, '8.5', '5.1', true, [], null);
  const out = interleaveBySoc([d('a2', 'tegra210'), d('a1', 'tegra210'), d('b1', 'tegra194'), d('c1', 'tegra234'), d('a3', 'tegra210'), d('z', null)]);
  // SoC order: '' (unknown), tegra194, tegra210, tegra234; ids sorted inside each.
  t.same(out.map((x) => x.id), ['z', 'b1', 'a1', 'c1', 'a2', 'a3']);
});

t.test('plugins: a TensorRT 11 board is skipped for a model that needs BatchedNMS, with the fix', async (t) => {
  const thor = dev('thor1', 'tegra264', 110, '11.0.0', '7.2', true, ['lab'], 50 * GiB);
  const orin = dev('orin6', 'tegra234', 87, '10.3.0', '6.2', true, ['lab'], 50 * GiB);
  const req: Requirements = { plugins: ['BatchedNMS_TRT', 'ResizeNearest_TRT'] };
  t.same(incompatibilities(orin, req), [], 'TensorRT 10 still has BatchedNMS (deprecated)');
  t.same(incompatibilities(thor, req), [
    'TensorRT 11.0.0 has no BatchedNMS_TRT (removed in TensorRT 11): Re-export the model with EfficientNMS (EfficientNMS_TRT, still in TensorRT 11) instead of BatchedNMS, or keep this model on boards with TensorRT 10 (JetPack 6) or older.',
  ]);
  t.same(incompatibilities(thor, { plugins: ['ResizeNearest_TRT'] }), [], 'ResizeNearest is still in 11');
  const r = resolveTargets({ kind: 'all' }, [thor, orin], req);
  t.same(r.online, ['orin6']);
  t.same(r.skipped.map((s) => [s.id, s.reason]), [['thor1', 'incompatible']]);
});

import t from 'tap';
import { parseDevicesFile } from '../../../agent/src/fleet/devices-file.js';
import { planRollout } from '../../../agent/src/fleet/plan.js';
import { formatPlan } from '../../../agent/src/fleet/plan-format.js';
import { parsePolicy } from '../../../agent/src/fleet/policy.js';
import { parseBytes, parseRequires } from '../../../agent/src/fleet/requirements.js';
import { parseWaves } from '../../../agent/src/fleet/waves.js';
import type { DeviceRecord } from '../../../agent/src/fleet/types.js';

t.test('parseRequires and parseBytes', async (t) => {
  t.same(parseRequires(['soc=tegra194, tegra234', 'cudaArch=72,87', 'tensorrt=>=8.5 <9', 'jetpack=5.1', 'minFreeDisk=2GiB']), {
    soc: ['tegra194', 'tegra234'],
    cudaArch: [72, 87],
    tensorrt: '>=8.5 <9',
    jetpack: '5.1',
    minFreeDiskBytes: 2 * 1024 ** 3,
  });
  t.same(parseRequires([]), {});
  for (const bad of ['soc', '=x', 'cudaArch=sm72', 'tensorrt=>=x', 'minFreeDisk=lots', 'ram=4G']) t.throws(() => parseRequires([bad]), { code: 'USAGE' }, bad);
  t.equal(parseBytes('500MB'), 500_000_000);
  t.equal(parseBytes('1.5GiB'), 1_610_612_736);
  t.equal(parseBytes('1024'), 1024);
  t.equal(parseBytes('2 TB'), undefined, 'TB is not a unit we accept');
});

t.test('parsePolicy: defaults, and a wave timeout must exceed the gate', async (t) => {
  t.same(parsePolicy({}), { maxFailures: { kind: 'percent', hundredths: 1000, minSample: 10 }, healthGateMs: 300_000, waveTimeoutMs: 1_800_000 });
  t.same(parsePolicy({ maxFailures: '2', healthGate: '0s', waveTimeout: '10m', rate: '30/min' }), {
    maxFailures: { kind: 'count', count: 2 },
    healthGateMs: 0,
    waveTimeoutMs: 600_000,
    rate: { count: 30, perMs: 60_000 },
  });
  t.match(parsePolicy({ maxFailures: '5%', minSample: '20' }).maxFailures, { minSample: 20 });
  t.throws(() => parsePolicy({ healthGate: '30m', waveTimeout: '30m' }), { code: 'USAGE', message: /must be longer than --health-gate/ });
});

t.test('parseDevicesFile: defaults, ISO dates, every problem at once', async (t) => {
  const devs = parseDevicesFile(JSON.stringify({ devices: [{ id: 'a', online: true }, { id: 'b', online: false, lastSeen: '2026-01-02T03:04:05Z', groups: ['g'], board: { soc: 'tegra194' } }] }));
  t.same(devs[0], { id: 'a', online: true, lastSeen: null, groups: [], board: { soc: null, cudaArch: null, tensorrt: null, jetpack: null }, freeDiskBytes: null });
  t.equal(devs[1]?.lastSeen, Date.UTC(2026, 0, 2, 3, 4, 5));
  t.equal(devs[1]?.board.soc, 'tegra194');
  const err = (text: string): { code?: string; message?: string } => {
    try {
      parseDevicesFile(text, 'f.json');
    } catch (e) {
      return e as { code: string; message: string };
    }
    return {};
  };
  t.match(err('{'), { code: 'FLEET_DEVICES_FILE_INVALID', message: /not valid JSON/ });
  t.match(err('{"x":1}'), { code: 'FLEET_DEVICES_FILE_INVALID', message: /expected a JSON array/ });
  const many = err('[{"id":1,"online":"yes"},{"id":"a","online":true,"lastSeen":"soon"},{"id":"a","online":true},null]');
  t.match(many, { code: 'FLEET_DEVICES_FILE_INVALID' });
  t.match(many.message, /\[0\]\.id/);
  t.match(many.message, /\[0\]\.online/);
  t.match(many.message, /\[1\]\.lastSeen: not an ISO-8601 date/);
  t.match(many.message, /duplicate device id "a"/);
  t.match(many.message, /\[3\]/);
});

const d = (id: string, online: boolean, soc = 'tegra194'): DeviceRecord => ({
  id,
  online,
  lastSeen: 0,
  groups: ['g'],
  board: { soc, cudaArch: 72, tensorrt: '8.5.2', jetpack: '5.1' },
  freeDiskBytes: null,
});

t.test('planRollout: online devices fill the first waves, offline ones the last; duration bound', async (t) => {
  const devices = [d('off1', false), d('on1', true), d('on2', true), d('off2', false), d('on3', true), d('old', true, 'tegra210')];
  const p = planRollout({
    deploymentId: 'dep',
    selector: { kind: 'all' },
    devices,
    requires: { soc: ['tegra194'] },
    waves: parseWaves('1,50%,100%'),
    policy: parsePolicy({ healthGate: '5m', rate: '1/min' }),
  });
  // 5 compatible: cumulative 1, ceil(2.5)=3, 5.
  t.same(p.plan.waves, [['on1'], ['on2', 'on3'], ['off1', 'off2']]);
  t.same(p.targets.skipped.map((s) => s.id), ['old']);
  // Per wave: pacing (size-1 minutes at 1/min) + 5m gate: (0+5) + (1+5) + (1+5) = 17m.
  t.equal(p.minDurationMs, 17 * 60_000);
  const text = formatPlan(p, { wavesSpec: '1,50%,100%', devices });
  t.match(text, /5 compatible device\(s\) \(3 online, 2 offline → pending\), 1 skipped/);
  t.match(text, /^3 +2 +0 +2 +off1, off2$/m);
  t.match(text, /^old +incompatible +SoC tegra210 not in tegra194$/m);
  t.notMatch(text, /Warning/);
  const allOff = planRollout({ deploymentId: 'dep', selector: { kind: 'all' }, devices: [d('x', false)], requires: {}, waves: parseWaves('1'), policy: parsePolicy({}) });
  t.match(formatPlan(allOff, { wavesSpec: '1', devices: [d('x', false)] }), /Warning: every compatible target is offline/);
});

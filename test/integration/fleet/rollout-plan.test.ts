import t from 'tap';
import path from 'node:path';
import { FLEET_JS, runCli } from '../../helpers/cli.js';

const GiB = 2 ** 30;
const board = (soc: string, cudaArch: number, tensorrt: string, jetpack: string) => ({ soc, cudaArch, tensorrt, jetpack });
const DEVICES = [
  ...Array.from({ length: 18 }, (_, i) => ({ id: `xav-${String(i + 1).padStart(2, '0')}`, online: true, lastSeen: 1_790_000_000_000, groups: ['prod'], board: board('tegra194', 72, '8.5.2', '5.1'), freeDiskBytes: 20 * GiB })),
  { id: 'xav-off', online: false, lastSeen: '2026-11-20T10:00:00Z', groups: ['prod'], board: board('tegra194', 72, '8.5.2', '5.1'), freeDiskBytes: null },
  { id: 'nano-01', online: true, lastSeen: 1_790_000_000_000, groups: ['prod'], board: board('tegra210', 53, '8.2.1', '4.6'), freeDiskBytes: 8 * GiB },
  { id: 'xav-full', online: true, lastSeen: 1_790_000_000_000, groups: ['prod'], board: board('tegra194', 72, '8.5.2', '5.1'), freeDiskBytes: 1 * GiB },
  { id: 'lab-01', online: true, lastSeen: 1_790_000_000_000, groups: ['lab'], board: board('tegra234', 87, '8.6.2', '6.0'), freeDiskBytes: 50 * GiB },
];

interface PlanJson {
  waves: { wave: number; devices: string[]; online: string[]; pending: string[] }[];
  pending: string[];
  skipped: { id: string; reason: string; details: string[] }[];
}

t.test('rollout plan over a devices file: waves, skipped with reasons, pending', async (t) => {
  const dir = t.testdir({ 'devices.json': JSON.stringify(DEVICES) });
  const file = path.join(dir, 'devices.json');
  const args = ['rollout', 'plan', '--devices-file', file, '--target', 'group:prod', '--requires', 'cudaArch=72,87', '--requires', 'tensorrt=>=8.5 <9', '--requires', 'minFreeDisk=2GiB'];
  const r = await runCli([...args, '--json'], { script: FLEET_JS });
  t.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as PlanJson;
  // 19 compatible (18 online + xav-off); default waves 1,10%,50%,100% → cumulative 1, ceil(1.9)=2, ceil(9.5)=10, 19.
  t.same(plan.waves.map((w) => w.devices.length), [1, 1, 8, 9]);
  t.same(plan.waves[0]?.devices, ['xav-01']);
  t.same(plan.waves[3]?.pending, ['xav-off'], 'the offline device is in the last wave, as pending');
  t.same(plan.pending, ['xav-off']);
  t.same(
    plan.skipped.map((s) => [s.id, s.reason]),
    [
      ['nano-01', 'incompatible'],
      ['xav-full', 'incompatible'],
    ],
  );
  t.match(plan.skipped[1]?.details[0], /free disk 1\.0 GiB < 2\.0 GiB/);

  const human = await runCli(args, { script: FLEET_JS });
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /^WAVE +DEVICES +ONLINE +OFFLINE +IDS$/m);
  t.match(human.stdout, /^nano-01 +incompatible +CUDA arch 53 not in 72\|87; TensorRT 8\.2\.1 not in ">=8\.5 <9"$/m);
  t.match(human.stdout, /xav-off +last seen 2026-11-20T10:00:00\.000Z/);
});

t.test('rollout plan errors are coded', async (t) => {
  const dir = t.testdir({ 'devices.json': JSON.stringify(DEVICES), 'bad.json': '[{"id": "x"}]' });
  const none = await runCli(['rollout', 'plan', '--devices-file', path.join(dir, 'devices.json'), '--target', 'group:lab', '--requires', 'soc=tegra194', '--json'], { script: FLEET_JS });
  t.equal(none.code, 1);
  const body = JSON.parse(none.stdout) as { error: { code: string; message: string } };
  t.equal(body.error.code, 'FLEET_NO_TARGETS');
  t.match(body.error.message, /lab-01 \(incompatible: SoC tegra234 not in tegra194\)/);
  const bad = await runCli(['rollout', 'plan', '--devices-file', path.join(dir, 'bad.json'), '--target', 'all'], { script: FLEET_JS });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /FLEET_DEVICES_FILE_INVALID: .*\[0\]\.online/);
  const missing = await runCli(['rollout', 'plan', '--devices-file', path.join(dir, 'nope.json'), '--target', 'all'], { script: FLEET_JS });
  t.equal(missing.code, 1);
  t.match(missing.stderr, /FS_ERROR/);
  const waves = await runCli(['rollout', 'plan', '--devices-file', path.join(dir, 'devices.json'), '--target', 'all', '--waves', '50%,10%'], { script: FLEET_JS });
  t.equal(waves.code, 2);
  t.match(waves.stderr, /USAGE: Bad --waves "50%,10%"/);
  const noTarget = await runCli(['rollout', 'plan', '--devices-file', path.join(dir, 'devices.json')], { script: FLEET_JS });
  t.equal(noTarget.code, 2);
});

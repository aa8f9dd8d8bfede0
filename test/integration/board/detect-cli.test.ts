import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, runCli } from '../../helpers/cli.js';

// Runs the built CLI (`node agent/dist/main.js detect …`) as a real subprocess.
const BOARDS = path.join('test', 'fixtures', 'boards');
const IDS = ['nano-jp44', 'tx2-jp461', 'xavier-nx-jp46', 'agx-orin-jp512', 'orin-nano-jp62', 'x86-debian'];

t.test('detect --root <fixture> --json prints the expected BoardInfo for every board', async (t) => {
  const stateDir = t.testdir();
  for (const id of IDS) {
    const r = await runCli(['detect', '--root', path.join(BOARDS, id), '--json', '--state-dir', stateDir]);
    t.equal(r.code, 0, `${id} exits 0 ${r.stderr}`);
    const expected: unknown = JSON.parse(readFileSync(path.join(REPO_ROOT, BOARDS, id, 'expected.json'), 'utf8'));
    t.same(JSON.parse(r.stdout), expected, id);
  }
});

t.test('a tree with only a compatible file gives soc and cudaArch through the CLI', async (t) => {
  const dir = t.testdir({ proc: { 'device-tree': { compatible: Buffer.from('nvidia,p3737-0000+p3701-0005\0nvidia,p3701-0005\0nvidia,tegra234\0nvidia,tegra23x\0') } } });
  const r = await runCli(['detect', '--root', dir, '--json', '--state-dir', dir]);
  t.equal(r.code, 0, r.stderr);
  t.match(JSON.parse(r.stdout), { isJetson: true, soc: 'tegra234', cudaArch: 87, module: 'p3701-0005', l4t: null, tensorrt: null });
});

t.test('human output is an aligned key/value table with warnings last', async (t) => {
  const r = await runCli(['detect', '--root', path.join(BOARDS, 'nano-jp44'), '--state-dir', t.testdir()]);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.match(r.stdout, /^soc {2,}tegra210$/m);
  t.match(r.stdout, /^cuda arch {2,}53$/m);
  t.match(r.stdout, /^plugin library {2,}\/usr\/lib\/aarch64-linux-gnu\/libnvinfer_plugin\.so\.7\.1\.3$/m);
  t.match(r.stdout, /^trt oss branch {2,}release\/7\.1 \(cmake >= 3\.13\)$/m);
  const valueColumns = new Set(lines.filter((l) => !l.startsWith('warning:')).map((l) => /^\S+(?: \S+)*? {2,}/.exec(l)?.[0].length));
  t.equal(valueColumns.size, 1, 'every value starts in the same column');
  t.match(lines[lines.length - 1], /^warning: cmake 3\.10\.2 is older than 3\.13/);
});

t.test('an unsupported Jetson exits 1 with BOARD_UNSUPPORTED naming what was found', async (t) => {
  const dir = t.testdir({ proc: { 'device-tree': { compatible: Buffer.from('nvidia,jetson-tk1\0nvidia,tegra124\0') } } });
  const human = await runCli(['detect', '--root', dir, '--state-dir', dir]);
  t.equal(human.code, 1);
  t.match(human.stderr, /^jetson-agent: BOARD_UNSUPPORTED: .*nvidia,tegra124.*Supported SoCs/);
  const json = await runCli(['detect', '--root', dir, '--state-dir', dir, '--json']);
  t.equal(json.code, 1);
  t.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'BOARD_UNSUPPORTED');
});

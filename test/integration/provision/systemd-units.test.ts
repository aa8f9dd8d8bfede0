import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/cli.js';
import { BaseSection } from '../../../agent/src/core/config/sections/base.js';
import { PluginSection } from '../../../agent/src/core/config/sections/plugin.js';

/**
 * The units in systemd/ as a CI gate (issue #8): `systemd-analyze verify` exits 0 on
 * unknown keys and bad values, so any output is a failure; `security --offline=true`
 * rates the agent unit against a threshold (exposure × 10, docs/reference/systemd.md "Offline unit verification").
 */
const UNITS = ['jetson-agent.service', 'jetson-agent-plugin.service', 'jetson-agent-plugin.path'];
const SYSTEMD_DIR = path.join(REPO_ROOT, 'systemd');
/** Exposure 3.0: the reference skeleton rates 1.9, ours 2.5 (NotifyAccess=all, AF_NETLINK, no PrivateDevices). */
const AGENT_THRESHOLD = 30;
/** The root helper rates 1.3 (runs as root with CAP_CHOWN/CAP_FOWNER/CAP_DAC_OVERRIDE, AF_UNIX); 1.5 leaves no room to drop a sandbox option. */
const HELPER_THRESHOLD = 15;

const unitText = (name: string): string => readFileSync(path.join(SYSTEMD_DIR, name), 'utf8');

/** Directive values of a unit file (comments and sections ignored; last wins like systemd for scalars). */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (!m?.[1]) continue;
    out.set(m[1], [...(out.get(m[1]) ?? []), m[2] ?? '']);
  }
  return out;
}

/**
 * A root tree holding the host's systemd units (targets the units refer to), our units in
 * etc/systemd/system and stand-ins for the release's launchers: verify checks that ExecStart
 * binaries exist inside --root.
 */
function makeRoot(dir: string, units: Record<string, string>): string {
  mkdirSync(path.join(dir, 'opt/jetson-agent/current/bin'), { recursive: true });
  for (const launcher of ['jetson-agent', 'jetson-agent-plugin-helper']) copyFileSync('/usr/bin/true', path.join(dir, 'opt/jetson-agent/current/bin', launcher));
  mkdirSync(path.join(dir, 'usr/lib/systemd'), { recursive: true });
  cpSync('/usr/lib/systemd/system', path.join(dir, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  mkdirSync(path.join(dir, 'etc/systemd/system'), { recursive: true });
  for (const [name, text] of Object.entries(units)) writeFileSync(path.join(dir, 'etc/systemd/system', name), text);
  return dir;
}

function verify(root: string, names: readonly string[]): { code: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', `--root=${root}`, ...names], { encoding: 'utf8' });
  return { code: r.status, output: (r.stdout + r.stderr).trim() };
}

function security(root: string, name: string, threshold: number): { code: number | null; exposure: number; output: string } {
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', `--root=${root}`, `--threshold=${threshold}`, name], { encoding: 'utf8' });
  const output = r.stdout + r.stderr;
  const m = /Overall exposure level for \S+: ([\d.]+)/.exec(output);
  return { code: r.status, exposure: m?.[1] ? Number(m[1]) : NaN, output };
}

const allUnits = (): Record<string, string> => Object.fromEntries(UNITS.map((u) => [u, unitText(u)]));

t.test('systemd-analyze verify prints nothing for every unit', async (t) => {
  const root = makeRoot(t.testdir(), allUnits());
  const r = verify(root, UNITS);
  t.equal(r.output, '', 'no warnings');
  t.equal(r.code, 0);
});

t.test('the verify gate catches what systemd-analyze only warns about', async (t) => {
  // Proves the check can fail: a misspelt key exits 0 but prints a warning.
  const broken = unitText('jetson-agent.service').replace('WatchdogSec=', 'WatchdogSecs=');
  const root = makeRoot(t.testdir(), { 'jetson-agent.service': broken });
  const r = verify(root, ['jetson-agent.service']);
  t.equal(r.code, 0, 'systemd-analyze itself exits 0 (docs/reference/systemd.md "Offline unit verification")');
  t.match(r.output, /Unknown key 'WatchdogSecs'/);
});

t.test('security --offline rates the agent and the helper under the threshold', async (t) => {
  const root = makeRoot(t.testdir(), allUnits());
  const agent = security(root, 'jetson-agent.service', AGENT_THRESHOLD);
  t.equal(agent.code, 0, `agent exposure ${agent.exposure} <= ${AGENT_THRESHOLD / 10}`);
  t.ok(agent.exposure > 0 && agent.exposure <= AGENT_THRESHOLD / 10);
  const helper = security(root, 'jetson-agent-plugin.service', HELPER_THRESHOLD);
  t.equal(helper.code, 0, `helper exposure ${helper.exposure} <= ${HELPER_THRESHOLD / 10}`);

  // A unit that lost its sandbox must fail the same gate.
  const weak = unitText('jetson-agent.service')
    .split('\n')
    .filter((l) => !/^(ProtectSystem|ProtectHome|CapabilityBoundingSet|SystemCallFilter|RestrictAddressFamilies|NoNewPrivileges|PrivateTmp)=/.test(l))
    .join('\n');
  const weakRoot = makeRoot(t.testdir(), { 'jetson-agent.service': weak });
  const w = security(weakRoot, 'jetson-agent.service', AGENT_THRESHOLD);
  t.not(w.code, 0, `weakened unit (exposure ${w.exposure}) fails the threshold`);

  // The helper without two of its sandbox options already fails its own gate.
  const weakHelper = unitText('jetson-agent-plugin.service')
    .split('\n')
    .filter((l) => !/^(PrivateDevices|ProtectKernelTunables)=/.test(l))
    .join('\n');
  const wh = security(makeRoot(t.testdir(), { 'jetson-agent-plugin.service': weakHelper }), 'jetson-agent-plugin.service', HELPER_THRESHOLD);
  t.not(wh.code, 0, `weakened helper (exposure ${wh.exposure}) fails the threshold`);
});

t.test('root helper: only the library dir, the records dir, the ldconfig cache, dpkg diversions and the request dir are writable', async (t) => {
  const d = directives(unitText('jetson-agent-plugin.service'));
  const one = (k: string): string | undefined => d.get(k)?.at(-1);
  t.equal(one('ProtectSystem'), 'strict', 'everything else read-only');
  t.equal(one('StateDirectory'), 'jetson-agent-root', 'the records dir (plugin.recordsDir default /var/lib/jetson-agent-root) is made by systemd');
  t.equal(one('StateDirectoryMode'), '0700', 'root-only');
  t.same(
    (d.get('ReadWritePaths') ?? []).flatMap((v) => v.split(/\s+/)).sort(),
    ['-/usr/lib/aarch64-linux-gnu', '-/var/lib/dpkg', '/etc', '/var/lib/jetson-agent'].sort(),
    'library dir, dpkg diversions, /etc for ld.so.cache~ → ld.so.cache, the agent state dir (request/result)',
  );
  t.notOk(d.has('ReadOnlyPaths') || d.has('BindPaths'), 'no other mounts');
  for (const k of ['RestrictSUIDSGID', 'NoNewPrivileges', 'PrivateNetwork', 'PrivateDevices', 'ProtectHome', 'PrivateTmp']) t.equal(one(k), 'yes', k);
  t.same(one('CapabilityBoundingSet')?.split(/\s+/).sort(), ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER'], 'no CAP_SETUID/CAP_FSETID/CAP_SYS_ADMIN');
  t.equal(PluginSection.properties.recordsDir.default, `/var/lib/${one('StateDirectory') ?? ''}`, 'the unit makes the directory plugin.recordsDir names by default');
});

t.test('agent unit: notify protocol, restart policy and Jetson-safe hardening', async (t) => {
  const d = directives(unitText('jetson-agent.service'));
  const one = (k: string): string | undefined => d.get(k)?.at(-1);
  t.equal(one('Type'), 'notify');
  // The python3 forwarder child sends the datagrams (agent/src/platform/sd-notify.ts).
  t.equal(one('NotifyAccess'), 'all');
  t.equal(one('Restart'), 'on-failure');
  t.match(one('WatchdogSec') ?? '', /^\d+s$/);
  t.equal(one('User'), 'jetson-agent');
  t.match(one('SupplementaryGroups') ?? '', /\bvideo\b/);
  for (const k of ['StateDirectory', 'ConfigurationDirectory', 'RuntimeDirectory']) t.equal(one(k), 'jetson-agent', k);
  t.match(one('RestrictAddressFamilies') ?? '', /\bAF_UNIX\b/, 'AF_UNIX for NOTIFY_SOCKET');
  t.notOk(d.has('MemoryDenyWriteExecute'), 'MemoryDenyWriteExecute kills V8');
  t.notOk(d.has('PrivateDevices'), 'PrivateDevices hides the GPU device nodes');
  t.notOk(d.has('ProtectKernelTunables'), 'nvpmodel/jetson_clocks write /sys');
  const stopSec = Number(/^(\d+)s$/.exec(one('TimeoutStopSec') ?? '')?.[1]);
  const deadlineMs = BaseSection.shutdownDeadlineMs.default as number;
  t.ok(stopSec * 1000 > deadlineMs, `TimeoutStopSec ${stopSec}s > shutdownDeadlineMs ${deadlineMs}`);
  t.equal(one('StartLimitIntervalSec'), '0', 'an unattended board keeps restarting');
  // Through the release's launcher, which picks Node or Bun (bin/runtime.sh) and execs it.
  t.equal(one('ExecStart'), '/opt/jetson-agent/current/bin/jetson-agent run --config /etc/jetson-agent/config.yaml');
  t.ok(existsSync(path.join(REPO_ROOT, 'bin', 'jetson-agent')), 'bin/jetson-agent is in the repository (and the release)');
});

t.test('plugin helper units point at the request file and the built helper', async (t) => {
  const p = directives(unitText('jetson-agent-plugin.path'));
  t.same(p.get('PathExists'), ['/var/lib/jetson-agent/plugin/request.json']);
  t.same(p.get('Unit'), ['jetson-agent-plugin.service']);
  const s = directives(unitText('jetson-agent-plugin.service'));
  t.same(s.get('Type'), ['oneshot']);
  t.notOk(s.has('User'), 'runs as root');
  t.same(s.get('PrivateNetwork'), ['yes'], 'no network for the privileged part');
  const exec = s.get('ExecStart')?.[0] ?? '';
  const rel = /\/opt\/jetson-agent\/current\/(\S+)$/.exec(exec)?.[1] ?? '';
  t.equal(rel, 'bin/jetson-agent-plugin-helper', `runs the release's helper launcher: ${exec}`);
  // The launcher runs the built helper on the board's runtime.
  const entry = /ja_exec \S+ (\S+)/.exec(readFileSync(path.join(REPO_ROOT, rel), 'utf8'))?.[1] ?? '';
  t.ok(entry.startsWith('agent/dist/') && existsSync(path.join(REPO_ROOT, entry)), `${entry} is produced by npm run build`);
});

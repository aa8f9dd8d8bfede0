import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT, runCli } from '../../helpers/cli.js';

/**
 * provisioning/jetson-agent-provision, run for real into a temp root (--root): the files a
 * board gets, their modes and owners, idempotence, --check, certificate auth with openssl,
 * and the enrolment publish through a real mosquitto broker.
 */
const SCRIPT = path.join(REPO_ROOT, 'provisioning', 'jetson-agent-provision');
const ORIN_NANO_COMPATIBLE = 'nvidia,p3768-0000+p3767-0005\0nvidia,p3767-0005\0nvidia,tegra234\0nvidia,tegra23x\0';
const R36_RELEASE = '# R36 (release), REVISION: 4.7, GCID: 42132812, BOARD: generic, EABI: aarch64, DATE: Thu Sep 18 22:54:44 UTC 2025\n# KERNEL_VARIANT: oot\n';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function provision(args: readonly string[]): Run {
  const r = spawnSync(SCRIPT, [...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A board-shaped root: passwd/group with a video group, DT serial + model, nv_tegra_release. */
function boardRoot(dir: string, serial: string | null = '1423920000123'): string {
  const root = path.join(dir, 'root');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  mkdirSync(path.join(root, 'proc/device-tree'), { recursive: true });
  writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nvideo:x:44:\n');
  writeFileSync(path.join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(path.join(root, 'etc/gshadow'), 'root:*::\nvideo:!::\n', { mode: 0o640 });
  writeFileSync(path.join(root, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
  writeFileSync(path.join(root, 'etc/nv_tegra_release'), R36_RELEASE);
  writeFileSync(path.join(root, 'proc/device-tree/compatible'), ORIN_NANO_COMPATIBLE);
  writeFileSync(path.join(root, 'proc/device-tree/model'), 'NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super\0');
  if (serial !== null) writeFileSync(path.join(root, 'proc/device-tree/serial-number'), `${serial}\0`);
  return root;
}

function fleetFile(dir: string, lines: Record<string, string>): string {
  const file = path.join(dir, 'fleet.env');
  writeFileSync(file, '# fleet parameters\n' + Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return file;
}

const owner = (file: string): string => {
  const s = statSync(file);
  return `${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid}`;
};
const gidOf = (root: string, name: string): number =>
  Number(readFileSync(path.join(root, 'etc/group'), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`))?.split(':')[2]);

t.test('shellcheck: the first-boot script (POSIX sh) and the provisioning test driver are clean', async (t) => {
  const r = spawnSync('shellcheck', ['-s', 'sh', SCRIPT], { encoding: 'utf8' });
  t.equal(r.stdout + r.stderr, '');
  t.equal(r.status, 0);
  const driver = spawnSync('shellcheck', [path.join(REPO_ROOT, 'test', 'provision', 'run.sh')], { encoding: 'utf8' });
  t.equal(driver.stdout + driver.stderr, '');
  t.equal(driver.status, 0);
});

t.test('first run writes config, keyring and user; second run changes nothing; config is valid', async (t) => {
  const dir = t.testdir();
  const root = boardRoot(dir);
  const keys = path.join(dir, 'fleet-keys');
  writeFileSync(keys, '# keyId publicKey\nfleet-2026 MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE\n');
  const fleet = fleetFile(dir, { GROUPS: 'site-a,orin-nano', MQTT_URL: 'mqtt://broker.invalid:1883', MQTT_AUTH: 'password', MQTT_PASSWORD: '"p&ss\\word"', FLEET_PUBLIC_KEYS_FILE: keys });

  const first = provision(['--root', root, '--fleet', fleet, '--no-enrol']);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /create system user jetson-agent/);
  t.match(first.stdout, /create \/etc\/jetson-agent\/config\.yaml/);
  const etc = path.join(root, 'etc/jetson-agent');
  const gid = gidOf(root, 'jetson-agent');
  t.ok(gid > 0, 'jetson-agent group created');
  t.match(readFileSync(path.join(root, 'etc/group'), 'utf8'), /^video:x:44:jetson-agent$/m, 'agent user in video (GPU nodes)');
  t.equal(owner(path.join(etc, 'config.yaml')), `640 0:${gid}`, 'config holds the MQTT password: not world-readable');
  t.equal(owner(path.join(etc, 'keys.yaml')), `640 0:${gid}`, 'keyring: root writes, agent group reads');
  t.equal(owner(etc), '755 0:0');

  const cfg = parse(readFileSync(path.join(etc, 'config.yaml'), 'utf8')) as Record<string, unknown>;
  t.match(cfg, {
    deviceId: 'jetson-1423920000123',
    groups: ['site-a', 'orin-nano'],
    mqtt: { url: 'mqtt://broker.invalid:1883', username: 'jetson-1423920000123', password: 'p&ss\\word' },
    rollout: { fleetPublicKeys: [{ keyId: 'fleet-2026', publicKey: 'MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE' }] },
  });
  // The agent's own validation (one schema): the file must load without errors.
  const check = await runCli(['config', 'check', '--config', path.join(etc, 'config.yaml'), '--state-dir', path.join(dir, 'state')]);
  t.equal(check.code, 0, check.stderr);
  const printed = await runCli(['config', 'print', '--json', '--config', path.join(etc, 'config.yaml'), '--state-dir', path.join(dir, 'state')]);
  t.notMatch(printed.stdout, /p&ss/, 'config print redacts the password');

  const before = statSync(path.join(etc, 'config.yaml'));
  const second = provision(['--root', root, '--fleet', fleet, '--no-enrol']);
  t.equal(second.code, 0);
  t.equal(second.stdout.trim(), 'changes=0', 'idempotent');
  t.equal(statSync(path.join(etc, 'config.yaml')).ino, before.ino, 'config not rewritten');

  // --check: reports, writes nothing, exit 3; then the real run applies it.
  const fleet2 = fleetFile(dir, { GROUPS: 'site-b', MQTT_URL: 'mqtt://broker.invalid:1883', MQTT_AUTH: 'password', MQTT_PASSWORD: 'x', FLEET_PUBLIC_KEYS_FILE: keys });
  const dry = provision(['--root', root, '--fleet', fleet2, '--check', '--no-enrol']);
  t.equal(dry.code, 3);
  t.match(dry.stdout, /^would update \/etc\/jetson-agent\/config\.yaml$/m);
  t.match(dry.stdout, /changes=1/);
  t.equal(statSync(path.join(etc, 'config.yaml')).ino, before.ino, '--check wrote nothing');
  t.equal(provision(['--root', root, '--fleet', fleet2, '--no-enrol']).code, 0);
  t.match(parse(readFileSync(path.join(etc, 'config.yaml'), 'utf8')), { groups: ['site-b'], deviceId: 'jetson-1423920000123' }, 'device id kept');
  const clean = provision(['--root', root, '--fleet', fleet2, '--check', '--no-enrol']);
  t.equal(clean.code, 0);

  // A loosened mode is noticed and repaired.
  spawnSync('chmod', ['644', path.join(etc, 'keys.yaml')]);
  t.match(provision(['--root', root, '--fleet', fleet2, '--check', '--no-enrol']).stdout, /would fix mode\/owner of \/etc\/jetson-agent\/keys\.yaml/);
  provision(['--root', root, '--fleet', fleet2, '--no-enrol']);
  t.equal(owner(path.join(etc, 'keys.yaml')), `640 0:${gid}`);
});

t.test('device id: machine-id hash without a serial; --device-id wins; bad input is refused', async (t) => {
  const dir = t.testdir();
  const root = boardRoot(dir, null);
  const fleet = fleetFile(dir, {});
  t.equal(provision(['--root', root, '--fleet', fleet, '--no-enrol']).code, 0);
  const id = (parse(readFileSync(path.join(root, 'etc/jetson-agent/config.yaml'), 'utf8')) as { deviceId: string }).deviceId;
  t.match(id, /^jetson-[0-9a-f]{16}$/);
  t.notMatch(id, /0123456789abcdef0123/, 'raw machine-id not exposed');
  t.equal(provision(['--root', root, '--fleet', fleet, '--device-id', 'cam-07', '--no-enrol']).code, 0);
  t.match(readFileSync(path.join(root, 'etc/jetson-agent/config.yaml'), 'utf8'), /^deviceId: "cam-07"$/m);
  const bad = provision(['--root', root, '--fleet', fleet, '--device-id', 'a/b', '--no-enrol']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /must match/);
  const typo = provision(['--root', root, '--fleet', fleetFile(dir, { MQTT_URLL: 'x' }), '--no-enrol']);
  t.equal(typo.code, 1);
  t.match(typo.stderr, /unknown key MQTT_URLL/);
});

t.test('certificate auth: key + CSR on the board, config switches to the cert once it is signed', async (t) => {
  const dir = t.testdir();
  const root = boardRoot(dir);
  const ossl = (...a: string[]): void => {
    const r = spawnSync('openssl', a, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
  };
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.crt'), '-subj', '/CN=fleet-ca', '-days', '2');
  const base = { MQTT_URL: 'mqtts://broker.invalid:8883', MQTT_AUTH: 'cert', MQTT_CA_FILE: path.join(dir, 'ca.crt') };
  const first = provision(['--root', root, '--fleet', fleetFile(dir, base), '--no-enrol']);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /generate client key/);
  t.match(first.stdout, /have the fleet CA sign/);
  const mq = path.join(root, 'etc/jetson-agent/mqtt');
  const gid = gidOf(root, 'jetson-agent');
  t.equal(owner(path.join(mq, 'client.key')), `640 0:${gid}`, 'private key readable by the agent only');
  const subject = spawnSync('openssl', ['req', '-in', path.join(mq, 'client.csr'), '-noout', '-subject', '-verify'], { encoding: 'utf8' });
  t.match(subject.stdout, /CN ?= ?jetson-1423920000123/);
  let cfg = parse(readFileSync(path.join(root, 'etc/jetson-agent/config.yaml'), 'utf8')) as { mqtt: Record<string, string> };
  t.match(cfg.mqtt, { caFile: '/etc/jetson-agent/mqtt/ca.crt', certFile: '', keyFile: '' }, 'no cert yet → agent not pointed at a missing file');
  const keyBefore = readFileSync(path.join(mq, 'client.key'));
  t.equal(provision(['--root', root, '--fleet', fleetFile(dir, base), '--no-enrol']).stdout.split('\n').at(-2), 'changes=0', 'key and CSR kept');
  t.same(readFileSync(path.join(mq, 'client.key')), keyBefore);

  ossl('x509', '-req', '-in', path.join(mq, 'client.csr'), '-CA', path.join(dir, 'ca.crt'), '-CAkey', path.join(dir, 'ca.key'), '-CAcreateserial', '-out', path.join(dir, 'client.crt'), '-days', '2');
  const signed = provision(['--root', root, '--fleet', fleetFile(dir, { ...base, MQTT_CERT_FILE: path.join(dir, 'client.crt') }), '--no-enrol']);
  t.equal(signed.code, 0, signed.stderr);
  cfg = parse(readFileSync(path.join(root, 'etc/jetson-agent/config.yaml'), 'utf8')) as { mqtt: Record<string, string> };
  t.match(cfg.mqtt, { certFile: '/etc/jetson-agent/mqtt/client.crt', keyFile: '/etc/jetson-agent/mqtt/client.key' });
  t.same(readFileSync(path.join(mq, 'client.key')), keyBefore, 'signed cert matches the kept key');
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPort(port: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => (c.end(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('enrolment is published once to a real broker with the device password', async (t) => {
  const dir = t.testdir();
  const root = boardRoot(dir);
  const port = await freePort();
  const pw = path.join(dir, 'passwd');
  writeFileSync(pw, '');
  spawnSync('mosquitto_passwd', ['-b', pw, 'jetson-1423920000123', 'board-pw']);
  spawnSync('mosquitto_passwd', ['-b', pw, 'fleet', 'fleet-pw']);
  writeFileSync(path.join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${pw}\npersistence false\n`);
  const broker = spawn('mosquitto', ['-c', path.join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  t.teardown(() => broker.kill());
  await waitForPort(port);

  const topic = 'jetson/v1/devices/jetson-1423920000123/events';
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-u', 'fleet', '-P', 'fleet-pw', '-t', topic, '-W', '20', '-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let got = '';
  sub.stdout.on('data', (d: Buffer) => (got += d.toString()));
  await new Promise((r) => setTimeout(r, 500));
  const fleet = fleetFile(dir, { GROUPS: 'site-a', MQTT_URL: `mqtt://127.0.0.1:${port}`, MQTT_AUTH: 'password', MQTT_PASSWORD: 'board-pw' });
  const first = provision(['--root', root, '--fleet', fleet]);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, new RegExp(`publish enrolment to ${topic}`));
  for (let i = 0; i < 100 && !got.includes('\n'); i++) await new Promise((r) => setTimeout(r, 50));
  sub.kill();
  const [recvTopic, ...rest] = got.trim().split(' ');
  t.equal(recvTopic, topic);
  const msg = JSON.parse(rest.join(' ')) as Record<string, unknown>;
  t.match(msg, { event: 'enrolment', deviceId: 'jetson-1423920000123', groups: ['site-a'], l4t: '36.4.7', model: /Orin Nano/, csr: null });
  t.notMatch(got, /board-pw/, 'no secret in the payload');

  const again = provision(['--root', root, '--fleet', fleet]);
  t.equal(again.stdout.trim(), 'changes=0', 'not re-published when nothing changed');
});

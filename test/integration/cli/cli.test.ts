import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, MAIN_JS, FLEET_JS, cleanEnv, REPO_ROOT } from '../../helpers/cli.js';

t.test('--help works for the program, groups and every command', async (t) => {
  const top = await runCli(['--help']);
  t.equal(top.code, 0);
  t.match(top.stdout, /Usage: jetson-agent <command>/);
  const commands = [...top.stdout.matchAll(/^ {2}([a-z][a-z -]*?) {2,}/gm)].map((m) => m[1]?.trim() ?? '').filter((c) => !c.startsWith('-'));
  t.ok(commands.length >= 4, `lists commands: ${commands.join(', ')}`);
  for (const c of commands) {
    const r = await runCli([...c.split(' '), '--help']);
    t.equal(r.code, 0, `${c} --help exits 0`);
    t.match(r.stdout, new RegExp(`Usage: jetson-agent ${c}`), `${c} --help shows usage`);
  }
  const group = await runCli(['config', '--help']);
  t.equal(group.code, 0);
  t.match(group.stdout, /config print/);
  const fleet = await runCli(['--help'], { script: FLEET_JS });
  t.equal(fleet.code, 0);
  t.match(fleet.stdout, /Usage: jetson-fleet/);
});

t.test('usage errors exit 2 with one actionable line; --json gives {error:{code,message}}', async (t) => {
  const unknown = await runCli(['confg', 'print']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /^jetson-agent: USAGE: Unknown command "confg print"\. Did you mean "jetson-agent config print"\?/);
  t.equal(unknown.stderr.trim().split('\n').length, 1, 'one line');
  const flag = await runCli(['config', 'print', '--jsn']);
  t.equal(flag.code, 2);
  t.match(flag.stderr, /Did you mean --json\?/);
  const json = await runCli(['config', 'print', '--nope', '--json']);
  t.equal(json.code, 2);
  const body = JSON.parse(json.stdout) as { error: { code: string; message: string } };
  t.equal(body.error.code, 'USAGE');
  t.match(body.error.message, /--nope/);
});

t.test('config print shows the effective config, secrets redacted, env applied', async (t) => {
  const dir = t.testdir();
  const r = await runCli(['config', 'print', '--json', '--state-dir', dir], {
    env: { JETSON_AGENT_MQTT_PASSWORD: 's3cret', JETSON_AGENT_INFERENCE_PORT: '9191', JETSON_AGENT_MQTT_URL: 'mqtts://jet-01:urlpass@broker:8883' },
  });
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { config: { mqtt: { password: string; url: string }; inference: { port: number }; stateDir: string } };
  t.equal(out.config.mqtt.password, '***');
  t.equal(out.config.mqtt.url, 'mqtts://***@broker:8883', 'a password in the URL is redacted too');
  t.notMatch(r.stdout + r.stderr, /urlpass/);
  t.equal(out.config.inference.port, 9191);
  t.equal(out.config.stateDir, dir);
  t.notMatch(r.stdout + r.stderr, /s3cret/, 'the secret appears nowhere');
});

t.test('a config file with three mistakes reports all three and exits 2', async (t) => {
  const dir = t.testdir({ 'bad.yaml': 'inference:\n  port: eighty\n  hots: 0.0.0.0\nmqtt:\n  protocolVersion: 6\n' });
  const r = await runCli(['config', 'check', '--config', path.join(dir, 'bad.yaml')]);
  t.equal(r.code, 2);
  t.match(r.stderr, /CONFIG_INVALID: 3 configuration problem\(s\)/);
  t.match(r.stderr, /inference\.port: expected integer/);
  t.match(r.stderr, /inference\.hots: unknown key; did you mean "inference\.host"/);
  t.match(r.stderr, /mqtt\.protocolVersion: expected 4 \| 5, got 6/);
  const missing = await runCli(['config', 'check', '--config', path.join(dir, 'nope.yaml'), '--json']);
  t.equal(missing.code, 1);
  t.equal((JSON.parse(missing.stdout) as { error: { code: string } }).error.code, 'CONFIG_UNREADABLE');
});

t.test('the installed-bin entry and main.js behave the same', async (t) => {
  const a = await runCli(['version', '--json']);
  const b = await runCli(['version', '--json'], { script: path.join(REPO_ROOT, 'agent', 'dist', 'bin', 'jetson-agent.js') });
  t.equal(a.code, 0);
  t.same(JSON.parse(a.stdout), JSON.parse(b.stdout));
});

t.test('run: the state directory falls back when the default is not writable', async (t) => {
  const home = t.testdir();
  const conf = path.join(home, 'c.yaml');
  writeFileSync(conf, 'stateDir: /proc/not-writable/jetson-agent\n');
  // An explicit but unwritable state dir is an error …
  const bad = await runCli(['config', 'print', '--config', conf, '--json']);
  t.equal(bad.code, 1);
  t.equal((JSON.parse(bad.stdout) as { error: { code: string } }).error.code, 'STATE_DIR_UNWRITABLE');
  // … while the default falls back to a per-user directory for a normal user.
  if (process.getuid?.() === 0) {
    chmodSync(home, 0o777);
    const r = await runUnprivileged(['config', 'print', '--json'], { HOME: home, XDG_STATE_HOME: '' });
    t.equal(r.code, 0, r.stderr);
    t.equal((JSON.parse(r.stdout) as { config: { stateDir: string } }).config.stateDir, path.join(home, '.local', 'state', 'jetson-agent'));
  } else {
    const r = await runCli(['config', 'print', '--json'], { env: { HOME: home, XDG_STATE_HOME: '' } });
    t.equal((JSON.parse(r.stdout) as { config: { stateDir: string } }).config.stateDir, path.join(home, '.local', 'state', 'jetson-agent'));
  }
});

/** Run the CLI as uid/gid 65534 (nobody) with setpriv(1), to test non-root behaviour as root. */
function runUnprivileged(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, MAIN_JS, ...args], {
      env: { ...cleanEnv(), ...env },
      cwd: '/',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test('--config, --state-dir and --root expand ~ (the shell does not for --config=~/x or a quoted "~/x")', async (t) => {
  const home = t.testdir({ 'agent.yaml': 'deviceId: from-home-config\n', state: {} });
  const r = await runCli(['config', 'print', '--json', '--config=~/agent.yaml', '--state-dir', '~/state', '--root=~'], { env: { HOME: home } });
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { configFile: string; config: { deviceId: string; stateDir: string; hostRoot: string } };
  const cfg = out.config;
  t.equal(out.configFile, path.join(home, 'agent.yaml'));
  t.equal(cfg.deviceId, 'from-home-config', 'the file under HOME was read');
  t.equal(cfg.stateDir, path.join(home, 'state'));
  t.equal(cfg.hostRoot, home);
  const missing = await runCli(['config', 'print', '--config=~/nope.yaml'], { env: { HOME: home } });
  t.equal(missing.code, 1);
  t.match(missing.stderr, new RegExp(`Config file ${path.join(home, 'nope.yaml').replace(/[.]/g, '\\.')} does not exist`), 'the error names the expanded path');
});

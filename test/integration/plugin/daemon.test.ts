import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MAIN_JS, cleanEnv, runCli } from '../../helpers/cli.js';
import { ALL_CREATORS, GOOD_SYMBOLS, compileLib, makeBoardRoot, recordsDirOf } from '../../helpers/plugin-board.js';
import { agentCommand, commandEnv } from '../../helpers/runtime.js';

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

function startDaemon(args: string[]) {
  // Ports 0: the daemon also starts the inference endpoint and the embedded broker.
  const env = { ...cleanEnv(), JETSON_AGENT_INFERENCE_PORT: '0', JETSON_AGENT_MQTT_EMBEDDED_PORT: '0', JETSON_AGENT_INFERENCE_INTRA_OP_THREADS: '1' };
  const cmd = agentCommand(MAIN_JS);
  const child = spawn(cmd.file, [...cmd.prefix, 'run', ...args], { env: commandEnv(cmd, env), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitLog = async (re: RegExp, ms = 60000): Promise<void> => {
    const t0 = Date.now();
    while (!re.test(log)) {
      if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${String(re)}; log:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, exited, waitLog, log: () => log };
}

t.test('agent start recovers an interrupted restore and then checks drift', async (t) => {
  const dir = t.testdir({ root: {}, state: {}, cand: {} });
  const b = makeBoardRoot(path.join(dir, 'root'));
  const state = path.join(dir, 'state');
  const base = ['--root', b.root, '--state-dir', state];
  const good = compileLib(path.join(dir, 'cand', 'lib.so'), { soname: 'libnvinfer_plugin.so.7', creators: ALL_CREATORS, symbols: GOOD_SYMBOLS });
  const original = sha(b.hostTarget);
  t.equal((await runCli(['plugin', 'install', '--from', good, ...base])).code, 0);
  // The journal a `plugin restore` writes (in the root-only records, docs/plugin.md "Who may steer
  // root") before touching the library, as if it died right after: its writer's pid is gone.
  const journalFile = path.join(recordsDirOf(b), 'journal.json');
  const deadPid = spawnSync('true').pid ?? 1;
  writeFileSync(
    journalFile,
    JSON.stringify({ op: 'restore', target: b.target, linkName: 'libnvinfer_plugin.so.7', backupSha: original, fromSha: sha(good), startedAt: new Date().toISOString(), pid: deadPid }),
    { mode: 0o600 },
  );
  const d = startDaemon([...base, '--log-level', 'info']);
  await d.waitLog(/"msg":"plugin check: no drift"/);
  d.child.kill('SIGTERM');
  t.equal(await d.exited, 0, d.log());
  t.match(d.log(), /recovering an interrupted plugin operation/);
  t.equal(sha(b.hostTarget), original, 'the interrupted restore was finished at start');
  t.notOk(existsSync(journalFile), 'journal cleared');
  t.equal(readFileSync(path.join(b.root, 'var/lib/dpkg/diversions'), 'utf8'), '', 'diversion removed');
});

t.test('agent start reports drift when a package upgrade replaced the swapped library', async (t) => {
  const dir = t.testdir({ root: {}, state: {}, cand: {} });
  const b = makeBoardRoot(path.join(dir, 'root'));
  const base = ['--root', b.root, '--state-dir', path.join(dir, 'state')];
  const good = compileLib(path.join(dir, 'cand', 'lib.so'), { soname: 'libnvinfer_plugin.so.7', creators: ALL_CREATORS, symbols: GOOD_SYMBOLS });
  t.equal((await runCli(['plugin', 'install', '--from', good, ...base])).code, 0);
  const upgraded = compileLib(path.join(dir, 'cand', 'up.so'), { soname: 'libnvinfer_plugin.so.7', creators: [], symbols: ['initLibNvInferPlugins'], marker: 'upgrade' });
  writeFileSync(b.hostTarget, readFileSync(upgraded));
  const d = startDaemon(base);
  await d.waitLog(/plugin drift: the library is neither the installed custom build nor the backed-up original/);
  d.child.kill('SIGTERM');
  t.equal(await d.exited, 0, d.log());
  t.equal(sha(b.hostTarget), sha(upgraded), 'drift is reported, not repaired');
});

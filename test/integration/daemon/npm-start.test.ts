import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { REPO_ROOT, cleanEnv } from '../../helpers/cli.js';

/**
 * README's "start the agent" is `npm ci && npm start`: `kill <npm start's pid>` must stop the
 * agent. npm forwards SIGTERM to the script's shell; the start script `exec`s node, so that shell
 * IS the agent and the signal reaches it (a shell that forks node instead dies and leaves the
 * agent running as an orphan).
 */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('SIGTERM to the npm start process stops the agent cleanly', async (t) => {
  const dir = t.testdir({ state: {} });
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: REPO_ROOT,
    env: { ...cleanEnv(), JETSON_AGENT_INFERENCE_PORT: '0', JETSON_AGENT_MQTT_EMBEDDED_PORT: '0', JETSON_AGENT_INFERENCE_INTRA_OP_THREADS: '1', JETSON_AGENT_STATE_DIR: path.join(dir, 'state') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let onLog = (): void => undefined;
  const add = (d: Buffer): void => {
    log += d.toString();
    onLog();
  };
  npm.stdout.on('data', add);
  npm.stderr.on('data', add);
  const npmClosed = once(npm, 'close');
  let agentPid = 0;
  // npm exits once its child has; its pipes close only when every holder is gone, and an orphaned
  // agent would hold them for ever. So: after npm's exit, wait for the pipes only if the agent is
  // gone too (its last lines are then still to be read); otherwise end now, and fail below.
  const npmDone = once(npm, 'exit').then(() => (agentPid && alive(agentPid) ? undefined : npmClosed));
  /** Resolves when the log matches, or with null once npm is done without it. */
  const logMatches = (re: RegExp): Promise<RegExpExecArray | null> =>
    new Promise((resolve) => {
      onLog = () => {
        const m = re.exec(log);
        if (m) resolve(m);
      };
      onLog();
      void npmDone.then(() => resolve(re.exec(log)));
    });
  t.teardown(() => {
    if (agentPid && alive(agentPid)) process.kill(agentPid, 'SIGKILL');
    if (npm.exitCode === null) npm.kill('SIGKILL');
  });

  const ready = await logMatches(/"pid":(\d+)[^\n]*"msg":"agent ready"/);
  t.ok(ready, 'the agent started under npm start');
  if (!ready) return;
  agentPid = Number(ready[1]);
  t.not(agentPid, npm.pid, 'the agent is its own process');

  npm.kill('SIGTERM');
  const stopped = await logMatches(/"msg":"stopped cleanly"/);
  await npmDone;
  t.ok(stopped, 'the agent shut down cleanly');
  // npm exits only after its child (the exec'd agent) has exited, so by now the pid is gone.
  t.notOk(alive(agentPid), 'the agent process is gone with npm');
});

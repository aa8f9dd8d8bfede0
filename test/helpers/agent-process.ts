import { spawn, type ChildProcess } from 'node:child_process';
import { cleanEnv, MAIN_JS } from './cli.js';
import { agentCommand, commandEnv } from './runtime.js';

/**
 * A real `jetson-agent run` process for integration tests. By default it binds port 0 for the
 * inference endpoint and the embedded broker (tests run in parallel) and uses one intra-op
 * thread; `env` adds or overrides variables. The caller registers `stop()`/`kill()` in teardown.
 * It runs on the test's runtime (helpers/runtime.ts): Node, or Bun through bin/jetson-agent.
 */
export interface AgentProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  log(): string;
  /** Resolves with the first match of `re` in the log (stdout + stderr), polling every 50 ms. */
  waitLog(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The inference endpoint's port, from the "listening" log line. */
  port(): Promise<number>;
  kill(): void;
}

export const TEST_AGENT_ENV: Readonly<Record<string, string>> = {
  JETSON_AGENT_INFERENCE_PORT: '0',
  JETSON_AGENT_MQTT_EMBEDDED_PORT: '0',
  JETSON_AGENT_INFERENCE_INTRA_OP_THREADS: '1',
};

export function startAgent(args: readonly string[], env: Readonly<Record<string, string>> = {}): AgentProcess {
  const cmd = agentCommand(MAIN_JS);
  const child = spawn(cmd.file, [...cmd.prefix, 'run', ...args], { env: commandEnv(cmd, { ...cleanEnv(), ...TEST_AGENT_ENV, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  const waitLog = async (re: RegExp, timeoutMs = 120_000): Promise<RegExpExecArray> => {
    const t0 = Date.now();
    for (;;) {
      const m = re.exec(log);
      if (m) return m;
      if (Date.now() - t0 > timeoutMs) throw new Error(`timeout waiting for ${String(re)}:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    child,
    exited,
    log: () => log,
    waitLog,
    port: async () => Number((await waitLog(/"port":(\d+)[^\n]*inference endpoint listening/))[1]),
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

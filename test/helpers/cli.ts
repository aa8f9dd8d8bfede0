import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentCommand, commandEnv } from './runtime.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MAIN_JS = path.join(REPO_ROOT, 'agent', 'dist', 'main.js');
export const FLEET_JS = path.join(REPO_ROOT, 'agent', 'dist', 'bin', 'jetson-fleet.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run the built CLI (`npm test` builds agent/dist first) as a real subprocess, on the test's runtime (helpers/runtime.ts). */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; cwd?: string; input?: string; script?: string; timeoutMs?: number; uid?: number; gid?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const run = agentCommand(options.script ?? MAIN_JS);
    const node = [run.file, ...run.prefix, ...args];
    // tap's process-info hook adds its loader to every child's NODE_OPTIONS; another user cannot
    // write its files, so that child starts through env(1) without it.
    const [cmd, ...argv] = options.uid === undefined ? node : ['/usr/bin/env', '-u', 'NODE_OPTIONS', ...node];
    const child = spawn(cmd ?? process.execPath, argv, {
      cwd: options.cwd ?? REPO_ROOT,
      env: commandEnv(run, { ...cleanEnv(), ...options.env }),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** process.env without JETSON_AGENT_* and NOTIFY_SOCKET, so the host does not leak into tests. */
export function cleanEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('JETSON_AGENT_') || k === 'NOTIFY_SOCKET' || k.startsWith('WATCHDOG_')) continue;
    out[k] = v;
  }
  return out;
}


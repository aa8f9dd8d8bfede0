import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/**
 * A long-running child with piped stdio (the TensorRT runner). argv array only, never a shell
 * (docs/reference/design-rules.md "Cross-cutting rules"). The caller owns the process: it must kill() it.
 */
export interface PipedProcess {
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  onExit(fn: (code: number | null, signal: string | null) => void): void;
  onError(fn: (err: Error) => void): void;
  kill(signal?: NodeJS.Signals): void;
}

export function spawnPiped(file: string, args: readonly string[], env?: Readonly<Record<string, string>>): PipedProcess {
  const child = spawn(file, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env, shell: false });
  return {
    pid: child.pid,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    onExit: (fn) => child.on('exit', fn),
    onError: (fn) => child.on('error', fn),
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}

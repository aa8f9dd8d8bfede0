import { execFile, spawn as nodeSpawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { ResultPromise } from 'execa';
import { AgentError } from '../core/errors.js';

/**
 * The only place that starts subprocesses (docs/reference/design-rules.md "Cross-cutting rules"): argv arrays only (never a shell
 * string built from input), a deadline, an AbortSignal, output optionally appended to the
 * operation's log file, and the stderr tail in the error.
 */
export interface ExecOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Replace the environment instead of extending process.env. */
  readonly extendEnv?: boolean;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Append stdout+stderr here (created if missing). */
  readonly logFile?: string;
  /** Called for every complete output line (stdout and stderr). */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  readonly input?: string | Uint8Array;
  /** Do not throw on non-zero exit; the caller inspects exitCode. */
  readonly reject?: boolean;
  /** Hide these strings (e.g. a model key on the converter command line) in errors and logs. */
  readonly redact?: readonly string[];
  readonly maxBuffer?: number;
}

export interface ExecResult {
  readonly command: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly signal?: string;
}

const TAIL_LINES = 15;

export function redactArgs(args: readonly string[], secrets: readonly string[] = []): string[] {
  return args.map((a) => secrets.reduce((acc, s) => (s ? acc.split(s).join('***') : acc), a));
}

export function tailLines(text: string, n = TAIL_LINES): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}

// The errors every way of starting a program can end in (run, probe, spawnLines): one wording each.
const notFound = (file: string): AgentError =>
  new AgentError('EXEC_NOT_FOUND', `Program not found: ${file}.`, { hint: 'Install it or put its directory on PATH.', details: { program: file } });
const canceled = (shown: string): AgentError => new AgentError('CANCELED', `Canceled: ${shown}.`, { details: { command: shown } });
const timedOut = (shown: string, timeoutMs: number, stderrTail: string): AgentError =>
  new AgentError('TIMEOUT', `Timed out after ${timeoutMs} ms: ${shown}.`, {
    hint: 'Raise the deadline or check why the command hangs (see its log).',
    details: { command: shown, stderrTail },
  });

export async function run(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const started = Date.now();
  const shown = [file, ...redactArgs(args, options.redact)].join(' ');
  let log: WriteStream | undefined;
  if (options.logFile) {
    log = createWriteStream(options.logFile, { flags: 'a' });
    log.write(`$ ${shown}\n`);
  }
  // execa and its dependencies (~5 MB RSS) load with the first subprocess, not at start
  // (idle footprint, docs/benchmarks.md).
  const { execa } = await import('execa');
  const child: ResultPromise = execa(file, [...args], {
    cwd: options.cwd,
    env: options.env as Record<string, string> | undefined,
    extendEnv: options.extendEnv ?? true,
    timeout: options.timeoutMs,
    cancelSignal: options.signal,
    input: options.input,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: options.maxBuffer ?? 64 * 1024 * 1024,
    buffer: true,
    lines: false,
  });
  const feed = (stream: 'stdout' | 'stderr') => {
    let pending = '';
    return (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      log?.write(text);
      if (!options.onLine) return;
      pending += text;
      const parts = pending.split(/\r?\n|\r/);
      pending = parts.pop() ?? '';
      for (const line of parts) options.onLine(line, stream);
    };
  };
  child.stdout?.on('data', feed('stdout'));
  child.stderr?.on('data', feed('stderr'));
  const result = await child;
  const durationMs = Date.now() - started;
  if (log) {
    log.write(`[exit ${String(result.exitCode ?? result.signal)} after ${durationMs} ms]\n`);
    await new Promise<void>((resolve) => log?.end(resolve));
  }
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  const redact = (s: string): string => redactArgs([s], options.redact)[0] ?? s;

  if (result.failed && (result as { code?: string }).code === 'ENOENT') throw notFound(file);
  if (result.isCanceled) throw canceled(shown);
  if (result.timedOut) throw timedOut(shown, options.timeoutMs ?? 0, redact(tailLines(stderr)));
  const exitCode = result.exitCode ?? (result.signal ? 128 : 1);
  const out: ExecResult = {
    command: shown,
    exitCode,
    stdout,
    stderr,
    durationMs,
    ...(result.signal ? { signal: result.signal } : {}),
  };
  if (exitCode !== 0 && options.reject !== false) {
    const tail = redact(tailLines(stderr || stdout));
    throw new AgentError('EXEC_FAILED', `Command failed with exit ${exitCode}: ${shown}\n${tail}`, {
      hint: options.logFile ? `See the full log in ${options.logFile}.` : 'See the output above.',
      details: { command: shown, exitCode, stderrTail: tail },
    });
  }
  return out;
}

export interface ProbeOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * A short query whose whole output is small (`cmake --version`) and whose exit code the caller
 * inspects. Plain child_process, not execa: the daemon's start-up board detection is the only
 * subprocess an idle agent runs, and loading execa for it kept ~3 MB of JS heap for the life of
 * the process (idle footprint, docs/benchmarks.md). Builds and converters use `run()`.
 */
export function probe(file: string, args: readonly string[], options: ProbeOptions): Promise<ExecResult> {
  const started = Date.now();
  const shown = [file, ...args].join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, encoding: 'utf8', ...(options.signal ? { signal: options.signal } : {}) },
      (err, stdout, stderr) => {
        const durationMs = Date.now() - started;
        if (!err) return resolve({ command: shown, exitCode: 0, stdout, stderr, durationMs });
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string | null };
        if (e.code === 'ENOENT') return reject(notFound(file));
        if (e.name === 'AbortError' || options.signal?.aborted) return reject(canceled(shown));
        if (e.killed && e.signal === 'SIGKILL') return reject(timedOut(shown, options.timeoutMs, tailLines(stderr)));
        if (typeof e.code === 'number') return resolve({ command: shown, exitCode: e.code, stdout, stderr, durationMs });
        if (e.signal) return resolve({ command: shown, exitCode: 128, stdout, stderr, durationMs, signal: e.signal });
        reject(new AgentError('EXEC_FAILED', `Could not run ${shown}: ${e.message}.`, { hint: 'Check the program and its permissions.', details: { command: shown } }));
      },
    );
  });
}

/** Locate an executable on PATH (or in extra directories). Returns undefined when absent. */
export async function which(name: string, extraDirs: readonly string[] = []): Promise<string | undefined> {
  const { access, constants } = await import('node:fs/promises');
  const path = await import('node:path');
  if (name.includes('/')) {
    try {
      await access(name, constants.X_OK);
      return name;
    } catch {
      return undefined;
    }
  }
  const dirs = [...extraDirs, ...(process.env.PATH ?? '').split(':').filter(Boolean)];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export interface SpawnLinesOptions {
  readonly signal: AbortSignal;
  readonly onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A long-running subprocess whose output is consumed line by line and never buffered
 * (e.g. `tegrastats --interval`; `run()` keeps the whole output for its result). Resolves
 * with the exit code / signal when it ends; abort the signal to stop it (SIGTERM).
 */
export async function spawnLines(file: string, args: readonly string[], options: SpawnLinesOptions): Promise<{ exitCode: number | null; signal: string | null }> {
  if (options.signal.aborted) return { exitCode: null, signal: null };
  // Plain child_process, not execa: execa's cancelSignal could signal a subprocess whose
  // handle has no pid yet, and kill(0, SIGTERM) terminates the caller's whole process group
  // (seen in tests). Here a kill is sent only to a live child with a real pid.
  const child = nodeSpawn(file, [...args], {
    env: options.env ? ({ ...options.env }) : process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onAbort = (): void => {
    if (child.pid !== undefined && child.pid > 0 && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  options.signal.addEventListener('abort', onAbort, { once: true });
  const feed = (stream: 'stdout' | 'stderr') => {
    let pending = '';
    return (chunk: Buffer): void => {
      pending += chunk.toString('utf8');
      const parts = pending.split(/\r?\n/);
      pending = parts.pop() ?? '';
      for (const line of parts) options.onLine(line, stream);
    };
  };
  child.stdout.on('data', feed('stdout'));
  child.stderr.on('data', feed('stderr'));
  try {
    return await new Promise((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'ENOENT' ? notFound(file) : err);
      });
      child.once('close', (code, signal) => resolve({ exitCode: code, signal }));
    });
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
}

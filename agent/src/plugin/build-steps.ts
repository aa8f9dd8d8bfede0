import { AgentError } from '../core/errors.js';
import type { ErrorCode } from '../core/error-codes.js';
import { run } from '../platform/exec.js';
import { progressPercent } from './plan.js';

/** One deadline for a whole build (cmake checks, configure, make); TIMEOUT once it has passed. */
export function buildDeadline(what: string, timeoutMs: number): () => number {
  const deadline = Date.now() + timeoutMs;
  return () => {
    const ms = deadline - Date.now();
    if (ms <= 0) throw new AgentError('TIMEOUT', `The ${what} ran past its deadline of ${Math.round(timeoutMs / 1000)} s.`, { hint: 'Raise plugin.buildTimeoutSec.' });
    return ms;
  };
}

export interface StepOptions {
  readonly logFile: string;
  readonly remaining: () => number;
  readonly onStep?: ((what: string) => void) | undefined;
  readonly onProgress?: ((percent: number | null, line: string) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
  /** The code a failing step becomes (PLUGIN_BUILD_FAILED, RUNNER_BUILD_FAILED), and what the hint adds to "see the log". */
  readonly failCode: ErrorCode;
  readonly failHint?: string;
}

/**
 * Runs the build's subprocesses (cmake, make) into one log with progress from make's `[ nn%]`
 * lines; a failing step becomes `failCode` with the stderr tail and the log's path.
 */
export function buildStepRunner(o: StepOptions): (what: string, file: string, args: readonly string[], cwd?: string) => Promise<void> {
  const onLine = (line: string): void => o.onProgress?.(progressPercent(line) ?? null, line);
  return async (what, file, args, cwd) => {
    o.onStep?.(what);
    try {
      await run(file, args, { logFile: o.logFile, onLine, timeoutMs: o.remaining(), ...(cwd ? { cwd } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    } catch (err) {
      if (err instanceof AgentError && err.code === 'EXEC_FAILED') {
        throw new AgentError(o.failCode, `${what} failed: ${typeof err.details?.stderrTail === 'string' ? err.details.stderrTail : err.message}`, {
          hint: `See the full log in ${o.logFile}.${o.failHint ? ` ${o.failHint}` : ''}`,
          cause: err,
          details: { log: o.logFile },
        });
      }
      throw err;
    }
  };
}

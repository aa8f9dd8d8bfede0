import type { AgentError } from '../core/errors.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly description: string;
  /** Placeholder shown in help, e.g. DIR. */
  readonly arg?: string;
}

export interface PositionalSpec {
  readonly name: string;
  readonly required?: boolean;
  readonly description: string;
}

export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface GlobalOptions {
  readonly configFile?: string;
  readonly root?: string;
  readonly stateDir?: string;
  readonly json: boolean;
  readonly logLevel?: string;
}

/** What `ctx.agent()` gives a command: config, logger, host paths and the state dir. */
export type { AgentEnv } from '../core/agent-env.js';
import type { AgentEnv } from '../core/agent-env.js';

export interface Output {
  readonly json: boolean;
  readonly isTTY: boolean;
  /** Human output (ignored with --json). */
  print(text: string): void;
  /** Machine output (printed only with --json). */
  result(value: unknown): void;
  /**
   * A command that has a result AND failed (an aborted rollout, an incomplete rollback): with
   * --json one document, the result with `error: {code, message, hint}` added, so a script
   * reads both; otherwise the error line on stderr. Returns the error's exit code.
   */
  fail(value: Readonly<Record<string, unknown>>, err: AgentError): number;
  /** Progress/diagnostics to stderr. */
  info(text: string): void;
  /** One self-overwriting status line on stderr when it is a terminal (a progress bar); "" clears it. */
  progress(text: string): void;
}

export interface CommandContext {
  readonly program: string;
  readonly options: OptionValues;
  readonly positionals: readonly string[];
  readonly global: GlobalOptions;
  readonly out: Output;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Loads config + logger + state dir once (lazily: `--help` never touches the disk). */
  agent(): Promise<AgentEnv>;
  /** Aborted on SIGINT/SIGTERM for one-shot commands. */
  readonly signal: AbortSignal;
}

export interface CommandSpec {
  /** Words after the program name: ['plugin', 'build']. */
  readonly path: readonly string[];
  readonly summary: string;
  readonly description?: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  readonly positionals?: readonly PositionalSpec[];
  readonly examples?: readonly string[];
  /** Long-running daemon: logs go to stdout (journald) instead of stderr. */
  readonly daemon?: boolean;
  /** Returns the exit code (default 0). */
  run(ctx: CommandContext): Promise<number | void>;
}

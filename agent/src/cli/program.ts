import { packageVersion } from '../platform/package-version.js';
import { parseArgs } from 'node:util';
import { AgentError, UsageError, toAgentError } from '../core/errors.js';
import { suggest } from '../core/config/suggest.js';
import { createAgentEnv } from '../compose/agent-env.js';
import { GLOBAL_OPTIONS } from './globals.js';
import { commandHelp, groupHelp } from './help.js';
import type { AgentEnv, CommandContext, CommandSpec, GlobalOptions, OptionValues, Output } from './types.js';

export interface ProgramSpec {
  readonly name: string;
  readonly tagline: string;
  readonly commands: readonly CommandSpec[];
}

export interface ProgramIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
}

function findCommand(commands: readonly CommandSpec[], words: readonly string[]): { cmd: CommandSpec; rest: string[] } | undefined {
  let best: CommandSpec | undefined;
  for (const c of commands) {
    if (c.path.length <= words.length && c.path.every((w, i) => words[i] === w)) {
      if (!best || c.path.length > best.path.length) best = c;
    }
  }
  return best ? { cmd: best, rest: words.slice(best.path.length) } : undefined;
}

function makeOutput(io: ProgramIo, json: boolean, name: string): Output {
  return {
    json,
    isTTY: Boolean(io.stdout.isTTY),
    print: (text) => {
      if (!json) io.stdout.write(text.endsWith('\n') ? text : text + '\n');
    },
    result: (value) => {
      if (json) io.stdout.write(JSON.stringify(value, null, 2) + '\n');
    },
    info: (text) => {
      io.stderr.write(text.endsWith('\n') ? text : text + '\n');
    },
    fail: (value, e) => {
      if (json) io.stdout.write(JSON.stringify({ ...value, error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } }, null, 2) + '\n');
      else io.stderr.write(`${name}: ${e.toLine()}\n`);
      return e.exitCode;
    },
    progress: (text) => {
      if (io.stderr.isTTY) io.stderr.write(`\r${text}\x1b[K`);
    },
  };
}

/** Parse argv, run the command, map errors to one actionable line and an exit code. */
export async function runProgram(program: ProgramSpec, argv: readonly string[], io: ProgramIo): Promise<number> {
  const wantsJson = argv.includes('--json');
  const reportError = (err: unknown): number => {
    const e = toAgentError(err);
    if (wantsJson) io.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } }) + '\n');
    else io.stderr.write(`${program.name}: ${e.toLine()}\n`);
    return e.exitCode;
  };

  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  if (words.length === 0) {
    if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) {
      io.stdout.write(groupHelp(program.name, [], program.commands, program.tagline));
      return argv.length === 0 ? 2 : 0;
    }
    if (argv.includes('--version')) {
      io.stdout.write(`${await packageVersion()}\n`);
      return 0;
    }
    return reportError(new UsageError(`Missing command.`, `Run "${program.name} --help" to list the commands.`));
  }
  const found = findCommand(program.commands, words);
  if (!found) {
    const isGroup = program.commands.some((c) => words.every((w, i) => c.path[i] === w));
    if (isGroup) {
      const help = groupHelp(program.name, words, program.commands, program.tagline);
      if (argv.includes('--help') || argv.includes('-h')) {
        io.stdout.write(help);
        return 0;
      }
      io.stderr.write(help);
      return 2;
    }
    const names = [...new Set(program.commands.map((c) => c.path.slice(0, words.length).join(' ')))];
    const guess = suggest(words.join(' '), names);
    return reportError(
      new UsageError(
        `Unknown command "${words.join(' ')}".`,
        guess ? `Did you mean "${program.name} ${guess}"? Run "${program.name} --help" to list the commands.` : `Run "${program.name} --help" to list the commands.`,
      ),
    );
  }
  const { cmd } = found;
  const rest = argv.slice(cmd.path.length);
  const optionSpecs = { ...GLOBAL_OPTIONS, ...(cmd.options ?? {}) };
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...rest],
      options: Object.fromEntries(
        Object.entries(optionSpecs).map(([k, v]) => [k, { type: v.type, ...(v.short ? { short: v.short } : {}), ...(v.multiple ? { multiple: true } : {}) }]),
      ),
      allowPositionals: true,
      strict: true,
    }) as { values: OptionValues; positionals: string[] };
  } catch (err) {
    const msg = err instanceof Error ? err.message.replace(/\. To specify a positional.*$/s, '') : String(err);
    const unknown = /Unknown option '--?([^']+)'/.exec(msg)?.[1];
    const guess = unknown ? suggest(unknown, Object.keys(optionSpecs)) : undefined;
    return reportError(
      new UsageError(
        `${msg.replace(/\.$/, '')}.`,
        `${guess ? `Did you mean --${guess}? ` : ''}Run "${program.name} ${cmd.path.join(' ')} --help" for the options.`,
      ),
    );
  }
  if (parsed.values.help) {
    io.stdout.write(commandHelp(program.name, cmd));
    return 0;
  }
  const maxPos = cmd.positionals?.length ?? 0;
  const required = (cmd.positionals ?? []).filter((p) => p.required).length;
  if (parsed.positionals.length > maxPos || parsed.positionals.length < required) {
    const missing = cmd.positionals?.[parsed.positionals.length];
    return reportError(
      new UsageError(
        parsed.positionals.length > maxPos
          ? `Unexpected argument "${parsed.positionals[maxPos] ?? ''}".`
          : `Missing argument <${missing?.name ?? '?'}>.`,
        `Run "${program.name} ${cmd.path.join(' ')} --help" for the usage.`,
      ),
    );
  }
  const str = (k: string): string | undefined => {
    const v = parsed.values[k];
    return typeof v === 'string' ? v : undefined;
  };
  const global: GlobalOptions = {
    json: parsed.values.json === true,
    ...(str('config') !== undefined ? { configFile: str('config') } : {}),
    ...(str('root') !== undefined ? { root: str('root') } : {}),
    ...(str('state-dir') !== undefined ? { stateDir: str('state-dir') } : {}),
    ...(str('log-level') !== undefined ? { logLevel: str('log-level') } : {}),
  };
  const out = makeOutput(io, global.json, program.name);
  let envPromise: Promise<AgentEnv> | undefined;
  const controller = new AbortController();
  io.signal?.addEventListener('abort', () => controller.abort(io.signal?.reason), { once: true });
  const ctx: CommandContext = {
    program: program.name,
    options: parsed.values,
    positionals: parsed.positionals,
    global,
    out,
    env: io.env,
    signal: controller.signal,
    agent: () => (envPromise ??= createAgentEnv(global, io.env, cmd.daemon === true)),
  };
  try {
    const code = await cmd.run(ctx);
    return code ?? 0;
  } catch (err) {
    if (!(err instanceof AgentError) && envPromise) {
      try {
        (await envPromise).log.error({ err }, 'command failed');
      } catch {
        // config itself failed: reported below
      }
    }
    return reportError(err);
  }
}

export { packageVersion } from '../platform/package-version.js';

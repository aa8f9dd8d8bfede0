import { GLOBAL_OPTIONS } from './globals.js';
import type { CommandSpec, OptionSpec } from './types.js';

function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ` ${spec.arg ?? 'VALUE'}` : ''}`;
    return [flag, spec.description + (spec.multiple ? ' (repeatable)' : '')] as const;
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`);
}

export function commandHelp(program: string, cmd: CommandSpec): string {
  const pos = (cmd.positionals ?? []).map((p) => (p.required ? `<${p.name}${p.variadic ? '...' : ''}>` : `[${p.name}${p.variadic ? '...' : ''}]`)).join(' ');
  const lines = [`Usage: ${program} ${cmd.path.join(' ')}${cmd.options && Object.keys(cmd.options).length ? ' [options]' : ''}${pos ? ' ' + pos : ''}`, '', cmd.summary];
  if (cmd.description) lines.push('', cmd.description);
  if (cmd.positionals?.length) {
    lines.push('', 'Arguments:');
    const w = Math.max(...cmd.positionals.map((p) => p.name.length));
    for (const p of cmd.positionals) lines.push(`  ${p.name.padEnd(w)}  ${p.description}`);
  }
  if (cmd.options && Object.keys(cmd.options).length) lines.push('', 'Options:', ...optionLines(cmd.options));
  lines.push('', 'Global options:', ...optionLines(GLOBAL_OPTIONS));
  if (cmd.examples?.length) lines.push('', 'Examples:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}

/** Help for a program or a command group (`jetson-agent plugin --help`). */
export function groupHelp(program: string, prefix: readonly string[], commands: readonly CommandSpec[], tagline: string): string {
  const matching = commands.filter((c) => prefix.every((w, i) => c.path[i] === w));
  const rows = matching.map((c) => [c.path.join(' '), c.summary] as const);
  const width = Math.max(0, ...rows.map(([n]) => n.length));
  const head = prefix.length ? `Usage: ${program} ${prefix.join(' ')} <command> [options]` : `Usage: ${program} <command> [options]`;
  return [
    head,
    '',
    tagline,
    '',
    'Commands:',
    ...rows.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    `Run "${program} <command> --help" for a command's options.`,
    '',
  ].join('\n');
}

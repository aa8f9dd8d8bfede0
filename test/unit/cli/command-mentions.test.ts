import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { agentCommands } from '../../../agent/src/cli/agent-commands.js';
import { fleetCommands } from '../../../agent/src/cli/fleet-commands.js';
import { REPO_ROOT } from '../../helpers/cli.js';

/**
 * Every command an error hint, a help text or a doc names must exist (issue #18: PLUGIN_MISSING
 * pointed to `jetson-agent plugin swap`, which never existed). Scanned: string literals in
 * agent/src (hints, help), inline code and fenced blocks in README.md and docs/.
 */
const programs = { 'jetson-agent': agentCommands, 'jetson-fleet': fleetCommands } as const;
const all = [...agentCommands, ...fleetCommands];
const groups = new Set(all.filter((c) => c.path.length > 1).map((c) => c.path[0]!));

function files(dir: string, re: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(rel, re));
    else if (re.test(e.name)) out.push(rel);
  }
  return out;
}

/** The code-like parts of a file: string literals of TypeScript, code spans and blocks of markdown. */
function codeParts(file: string, text: string): { text: string; block: boolean }[] {
  if (file.endsWith('.md')) return [...text.matchAll(/```[^\n]*\n([\s\S]*?)```|`([^`\n]+)`/g)].map((m) => ({ text: m[1] ?? m[2] ?? '', block: m[1] !== undefined }));
  return [...text.matchAll(/'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`|"(?:[^"\\\n]|\\.)*"/g)].map((m) => ({ text: m[0], block: false }));
}

/** "plugin build" names a command; "plugin" alone names a group; "detect IMAGE" → detect. */
function exists(prog: keyof typeof programs, words: readonly string[]): boolean {
  const cmds = programs[prog];
  if (words.length === 0) return true;
  if (cmds.some((c) => c.path.every((w, i) => words[i] === w))) return true;
  return words.length === 1 && cmds.some((c) => c.path[0] === words[0]);
}

t.test('every command named in hints, help and docs exists', async (t) => {
  const scanned = [...files('agent/src', /\.ts$/), ...files('docs', /\.md$/), 'README.md', 'ansible/README.md'];
  const bad: string[] = [];
  let seen = 0;
  for (const f of scanned) {
    const text = readFileSync(path.join(REPO_ROOT, f), 'utf8');
    for (const part of codeParts(f, text)) {
      // `sudo -u jetson-agent …`, `chown jetson-agent:…`: the account, not the program.
      for (const m of part.text.matchAll(/(?<![-\w/:@.]|-u |--user |chown |chgrp |useradd |User=)jetson-(agent|fleet)((?: [a-z][a-z-]*)*)(?![\w:-])/gm)) {
        const prog = `jetson-${m[1]}` as keyof typeof programs;
        const words = (m[2] ?? '').trim().split(' ').filter(Boolean);
        // A first word that is no command is prose ("a jetson-fleet of the same version"),
        // except where a shell line starts with the program.
        const known = words.length === 0 || programs[prog].some((c) => c.path[0] === words[0]);
        const lineStart = part.block && /(^|\n)\s*(\$ |sudo )?$/.test(part.text.slice(0, m.index));
        if (!known && !lineStart) continue;
        seen++;
        if (!exists(prog, words)) bad.push(`${f}: ${prog} ${words.join(' ')}`);
      }
      // A code span that is a bare subcommand: `plugin swap`.
      const bare = !part.block && f.endsWith('.md') ? /^([a-z]+) ([a-z][a-z-]*)$/.exec(part.text) : null;
      if (bare && groups.has(bare[1]!)) {
        seen++;
        if (!all.some((c) => c.path.join(' ') === part.text)) bad.push(`${f}: ${part.text}`);
      }
      // "… build, then plugin swap": a second command named without the program.
      for (const m of part.text.matchAll(/(?:then|\/) `?([a-z]+) ([a-z][a-z-]*)`?(?=[\s).,`']|$)/g)) {
        if (!groups.has(m[1]!)) continue;
        seen++;
        if (!all.some((c) => c.path.join(' ') === `${m[1]} ${m[2]}`)) bad.push(`${f}: ${m[1]} ${m[2]}`);
      }
    }
  }
  t.ok(seen > 50, `${seen} command mentions checked`);
  t.same(bad, [], 'no hint or doc names a command that does not exist');
});

import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/cli.js';

/**
 * The layering of docs/architecture.md, checked on the sources: cli/ sits on compose/, compose/
 * wires the features and imports nothing from cli/, and no feature reaches up into compose/ or
 * cli/. (Features importing each other is not checked here: a few long-standing exceptions
 * remain, listed in docs/architecture.md.)
 */
const SRC = path.join(REPO_ROOT, 'agent', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map((m) => path.relative(SRC, path.resolve(path.dirname(file), m[1] ?? '')));
}

t.test('compose/ imports nothing from cli/', async (t) => {
  const bad = files(path.join(SRC, 'compose')).flatMap((f) => imports(f).filter((i) => i.startsWith('cli/')).map((i) => `${path.relative(SRC, f)} → ${i}`));
  t.same(bad, []);
});

t.test('no feature imports compose/ or cli/', async (t) => {
  const top = new Set(['cli', 'compose', 'bin']);
  const bad = files(SRC)
    .filter((f) => !top.has(path.relative(SRC, f).split(path.sep)[0] ?? '') && path.relative(SRC, f) !== 'main.ts')
    .flatMap((f) => imports(f).filter((i) => i.startsWith('cli/') || i.startsWith('compose/')).map((i) => `${path.relative(SRC, f)} → ${i}`));
  t.same(bad, []);
});

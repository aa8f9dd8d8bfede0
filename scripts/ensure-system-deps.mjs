#!/usr/bin/env node
// Makes sure every program the tests need is installed (issue #2: never silently skip).
// As root: installs the missing Debian packages with apt-get. Otherwise: stops with the
// exact apt-get line to run.
import { readFileSync, accessSync, constants } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const { tools } = JSON.parse(readFileSync(path.join(here, 'system-deps.json'), 'utf8'));
const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
const has = (cmd) =>
  dirs.some((d) => {
    try {
      accessSync(path.join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

const missing = tools.filter((t) => !has(t.command));
if (missing.length === 0) process.exit(0);
const packages = [...new Set(missing.map((t) => t.package))].sort();
const line = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
const what = missing.map((t) => `  ${t.command} (${t.package}): ${t.why}`).join('\n');
if (process.getuid?.() !== 0) {
  console.error(`The tests need programs that are not installed:\n${what}\nInstall them with:\n  sudo apt-get update && sudo ${line}`);
  process.exit(1);
}
console.error(`Installing missing test dependencies:\n${what}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...packages]]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed (exit ${r.status}). Run it by hand:\n  apt-get update && ${line}`);
    process.exit(1);
  }
}
const still = tools.filter((t) => !has(t.command));
if (still.length) {
  console.error(`Still missing after install: ${still.map((t) => t.command).join(', ')}`);
  process.exit(1);
}

// Runs a benchmark script on the Bun the lockfile pins for this machine (the optional dependency
// @oven/bun-linux-<arch>, the runtime of JetPack 4 boards; docs/provisioning.md "JetPack 4"), so
// a table measured on Bun stands beside the same table on Node. Bun runs TypeScript itself, so
// `node test/bench/with-bun.mjs test/bench/run.ts` needs no loader. Usage: with-bun.mjs SCRIPT ARGS...
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The pinned Bun executable for this machine, or null when npm did not install it. */
export function pinnedBun() {
  const pkg = `@oven/bun-linux-${process.arch === 'arm64' ? 'aarch64' : 'x64'}`;
  const exe = path.join(root, 'node_modules', pkg, 'bin', 'bun');
  return existsSync(exe) ? { pkg, exe } : { pkg, exe: null };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [script, ...args] = process.argv.slice(2);
  if (!script) {
    console.error('usage: node test/bench/with-bun.mjs SCRIPT [ARGS...]');
    process.exit(2);
  }
  const { pkg, exe } = pinnedBun();
  if (!exe) {
    console.error(`no pinned Bun: ${pkg} is not in node_modules (an optional dependency for linux ${process.arch} glibc). Run npm ci on such a machine.`);
    process.exit(1);
  }
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // Node loader flags mean nothing to Bun
  const child = spawn(exe, [script, ...args], { stdio: 'inherit', env });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

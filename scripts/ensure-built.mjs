#!/usr/bin/env node
// `npm start` builds first when agent/dist is missing or older than a source file.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const sources = [path.join(root, 'agent', 'src'), path.join(root, 'agent', 'console')];
const marker = path.join(root, 'agent', 'dist', 'main.js');

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const consoleMarker = path.join(root, 'agent', 'dist', 'console', 'index.html');
const built = Math.min(existsSync(marker) ? statSync(marker).mtimeMs : 0, existsSync(consoleMarker) ? statSync(consoleMarker).mtimeMs : 0);
const stale = Math.max(...sources.map(newest)) > built;
if (stale) {
  console.error('jetson-agent: building agent/dist (sources changed) …');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  // The same steps as `npm run build`.
  for (const args of [[tsc, '-p', path.join(root, 'tsconfig.build.json')], [tsc, '-p', path.join(root, 'agent', 'console')], [path.join(root, 'scripts', 'copy-console-assets.mjs')]]) {
    const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}

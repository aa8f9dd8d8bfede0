#!/usr/bin/env node
// Copies the board console's static files (HTML, CSS, icon) next to its compiled modules:
// agent/console/*.{html,css,svg} → agent/dist/console/ (tsc writes the .js there).
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const src = path.join(root, 'agent', 'console');
const out = path.join(root, 'agent', 'dist', 'console');
mkdirSync(out, { recursive: true });
for (const name of readdirSync(src)) {
  if (/\.(html|css|svg)$/.test(name)) copyFileSync(path.join(src, name), path.join(out, name));
}

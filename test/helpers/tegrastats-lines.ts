import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './cli.js';

export const TEGRASTATS_LINES_FILE = path.join(REPO_ROOT, 'test', 'fixtures', 'tegrastats', 'reference-lines.tsv');

/** board id → sample line (docs/reference/tegrastats.md "Sample lines"). */
export function referenceLines(): Map<string, string> {
  const out = new Map<string, string>();
  for (const row of readFileSync(TEGRASTATS_LINES_FILE, 'utf8').split('\n')) {
    if (!row || row.startsWith('#')) continue;
    const tab = row.indexOf('\t');
    out.set(row.slice(0, tab), row.slice(tab + 1));
  }
  return out;
}

// The glibc a release tree needs: every ELF file under a directory, read with the agent's own ELF
// reader (agent/dist/plugin/elf.js, so `npm run build` first), and the ones whose GLIBC_ version
// needs exceed a bound. scripts/make-release.mjs refuses a linux-arm64 release with any above
// JetPack 4's glibc 2.27 (docs/provisioning.md "glibc audit"): the same rule the audit test applies
// to the lockfile, applied to the exact tree that goes to the boards.
import { openSync, readSync, closeSync, readFileSync, readdirSync, lstatSync } from 'node:fs';
import { Buffer } from 'node:buffer';
import path from 'node:path';
import { compareVersions, highestGlibc, isElf, parseElf } from '../agent/dist/plugin/elf.js';

/** JetPack 4 (L4T R32, Ubuntu 18.04). */
export const JETPACK4_GLIBC = '2.27';

function* files(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

function startsElf(file) {
  if (lstatSync(file).size < 64) return false;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    return isElf(head);
  } finally {
    closeSync(fd);
  }
}

/**
 * Every ELF file under `dir` with the highest GLIBC version it needs (null: none), and the
 * problems: files above `max`, or whose needs cannot be read (no section headers).
 */
export function glibcNeeds(dir, max = JETPACK4_GLIBC) {
  const rows = [];
  const problems = [];
  for (const file of files(dir)) {
    if (!startsElf(file)) continue;
    const rel = path.relative(dir, file);
    const elf = parseElf(readFileSync(file));
    if (elf.versionNeeds === null) {
      problems.push(`${rel}: no section headers, its glibc needs cannot be read`);
      continue;
    }
    const glibc = highestGlibc(elf);
    rows.push({ file: rel, glibc });
    if (glibc !== null && compareVersions(glibc, max) > 0) problems.push(`${rel} needs GLIBC_${glibc} (more than ${max})`);
  }
  return { rows, problems };
}

import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { TreeFiles } from '../../agent/src/plugin/tree-shape.js';

/** Paths of a tree the shape reader is given: what source.ts reads on a board. */
const wanted = (p: string): boolean => p === 'CMakeLists.txt' || p === 'plugin/CMakeLists.txt' || /^cmake\/modules\/[^/]+\.cmake$/.test(p) || /^third_party\/[^/]+\.cmake$/.test(p);

/** A checked-out tree on disk (a fixture). */
export function treeFromDir(dir: string): TreeFiles {
  const files = new Map<string, string>();
  const dirs = new Set<string>();
  const walk = (rel: string, depth: number): void => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(path.join(dir, r)).isDirectory()) {
        dirs.add(r);
        if (depth < 2) walk(r, depth + 1);
      } else if (wanted(r)) files.set(r, readFileSync(path.join(dir, r), 'utf8'));
    }
  };
  walk('', 0);
  return { files, dirs };
}

/** A branch of a git repository of NVIDIA/TensorRT (read with git ls-tree/show, no work tree). */
export function treeFromGit(gitDir: string, ref: string): TreeFiles {
  const git = (...args: string[]): string => execFileSync('git', ['--git-dir', gitDir, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const files = new Map<string, string>();
  const dirs = new Set<string>();
  for (const line of git('ls-tree', '-r', '-t', '--name-only', ref, '--', 'CMakeLists.txt', 'plugin', 'cmake', 'third_party').split('\n')) {
    if (!line) continue;
    const parts = line.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    if (wanted(line)) files.set(line, git('show', `${ref}:${line}`));
  }
  return { files, dirs };
}

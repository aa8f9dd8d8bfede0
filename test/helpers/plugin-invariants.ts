import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { runCli } from './cli.js';
import { ALL_CREATORS, GOOD_SYMBOLS, compileLib, makeBoardRoot, recordsDirOf, type BoardRoot } from './plugin-board.js';

/**
 * What must hold for a board root after a crash (before recovery: `midway`) and after
 * recovery (`settled`), for the crash tests. Each returns the problems found, [] when none.
 * `oldSha` is the packaged original, `newSha` the custom build.
 */
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

export interface SwapShas {
  readonly oldSha: string;
  readonly newSha: string;
}

function divertCopy(b: BoardRoot): string {
  return path.join(b.hostLibDir, 'jetson-agent-diverted', path.basename(b.hostTarget));
}

export function midwayProblems(b: BoardRoot, recordsDir: string, s: SwapShas, namesBefore: readonly string[]): string[] {
  const problems: string[] = [];
  const now = existsSync(b.hostTarget) ? sha(b.hostTarget) : 'missing';
  if (now !== s.oldSha && now !== s.newSha) problems.push(`library holds neither old nor new bytes (${now.slice(0, 12)})`);
  const backup = path.join(recordsDir, 'backups', s.oldSha);
  if (existsSync(backup)) {
    const manifest = JSON.parse(readFileSync(path.join(backup, 'manifest.json'), 'utf8')) as { sha256: string; name: string };
    if (manifest.sha256 !== s.oldSha || sha(path.join(backup, manifest.name)) !== s.oldSha) problems.push('backup damaged');
  } else if (now === s.newSha || existsSync(path.join(recordsDir, 'installed.json'))) {
    problems.push('the custom build is in place (or recorded) but the backup of the original is missing');
  }
  const stray = readdirSync(b.hostLibDir).filter((n) => /^lib.*\.so/.test(n) && !namesBefore.includes(n));
  if (stray.length > 0) problems.push(`stray library names in the lib dir: ${stray.join(', ')}`);
  // The divert copy is written atomically: absent, or complete original bytes.
  if (existsSync(divertCopy(b)) && sha(divertCopy(b)) !== s.oldSha) problems.push('the jetson-agent-diverted/ copy is not the original');
  return problems;
}

export function settledProblems(b: BoardRoot, recordsDir: string, s: SwapShas, status: { origin: string; drift: boolean; sha256: string | null }): string[] {
  const problems: string[] = [];
  const after = sha(b.hostTarget);
  const custom = after === s.newSha;
  if (!((custom && status.origin === 'custom') || (after === s.oldSha && status.origin === 'system'))) problems.push(`status ${status.origin} with ${custom ? 'custom' : 'original'} bytes`);
  if (status.drift || status.sha256 !== after) problems.push(`inconsistent status ${JSON.stringify(status)}`);
  if (existsSync(path.join(recordsDir, 'journal.json'))) problems.push('journal left after recovery');
  if (readdirSync(b.hostLibDir).some((n) => n.startsWith('.'))) problems.push('temp file left in the lib dir');
  if (readlinkSync(path.join(b.hostLibDir, 'libnvinfer_plugin.so.7')) !== path.basename(b.hostTarget)) problems.push('SONAME link changed');
  const diverted = readFileSync(path.join(b.root, 'var/lib/dpkg/diversions'), 'utf8').includes(b.target);
  if (custom !== diverted) problems.push(`diversion ${diverted ? 'present' : 'absent'} with ${custom ? 'custom' : 'original'} bytes`);
  const copy = existsSync(divertCopy(b));
  if (custom !== copy) problems.push(`jetson-agent-diverted/ copy ${copy ? 'present' : 'absent'} with ${custom ? 'custom' : 'original'} bytes`);
  if (copy && sha(divertCopy(b)) !== s.oldSha) problems.push('the divert copy is not the original');
  if (copy && (statSync(divertCopy(b)).mode & 0o6000) !== 0) problems.push('the divert copy carries setuid/setgid');
  if ((statSync(b.hostTarget).mode & 0o6000) !== 0) problems.push('the library carries setuid/setgid');
  return problems;
}

/** Deterministic PRNG (mulberry32) so a failure can be replayed with the printed seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CrashBoard {
  readonly b: BoardRoot;
  readonly state: string;
  /** The custom build, in the state dir where the agent's `plugin build` leaves it. */
  readonly good: string;
  readonly shas: SwapShas;
  readonly records: string;
  /** `--root <root> --state-dir <state>` */
  readonly base: readonly string[];
  readonly namesBefore: readonly string[];
  /** Root's `plugin status --json` (it recovers first), or the failure output. */
  status(): Promise<{ origin: string; drift: boolean; sha256: string | null } | string>;
}

/** A Nano board root, a state dir with a custom build in builds/k1/, for the crash tests. */
export function crashBoard(dir: string): CrashBoard {
  const b = makeBoardRoot(path.join(dir, 'root'));
  const state = path.join(dir, 'state');
  const good = compileLib(path.join(state, 'builds', 'k1', 'libnvinfer_plugin.so.7.1.3'), { soname: 'libnvinfer_plugin.so.7', creators: ALL_CREATORS, symbols: GOOD_SYMBOLS, marker: 'oss' });
  const base = ['--root', b.root, '--state-dir', state];
  return {
    b,
    state,
    good,
    shas: { oldSha: sha(b.hostTarget), newSha: sha(good) },
    records: recordsDirOf(b),
    base,
    namesBefore: readdirSync(b.hostLibDir).sort(),
    status: async () => {
      const r = await runCli(['plugin', 'status', '--json', ...base], { timeoutMs: 120_000 });
      return r.code === 0 ? (JSON.parse(r.stdout) as { origin: string; drift: boolean; sha256: string | null }) : `${r.stdout}${r.stderr}`;
    },
  };
}

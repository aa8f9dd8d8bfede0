import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../../agent/src/core/log.js';
import { HostPaths } from '../../../agent/src/platform/paths.js';
import { pluginRecords } from '../../../agent/src/plugin/records.js';
import { pluginStatePaths } from '../../../agent/src/plugin/state-paths.js';
import { pluginStatus } from '../../../agent/src/plugin/status.js';
import { REPO_ROOT, runCli } from '../../helpers/cli.js';
import { LIB_DIR, recordsDirOf, type BoardRoot } from '../../helpers/plugin-board.js';
import { crashBoard, midwayProblems, settledProblems, type CrashBoard } from '../../helpers/plugin-invariants.js';
import { FsModel, parseTrace, type Model, type TraceEvent } from '../../helpers/power-cut.js';

/**
 * Power cuts, where writes that were not fsynced are lost. The real CLI runs an install and a
 * restore with test/helpers/fsync-shim.c preloaded, which records every file change and every
 * fsync under the test tree; test/helpers/power-cut.ts then rebuilds the tree a power cut
 * would leave after each recorded call, under two models (only fsynced data and directory
 * entries survive; or all metadata in order but only fsynced data). Every distinct state is
 * written out and root's recovery runs on it: the library must hold old or new bytes, the
 * backup and the divert copy be intact, and recovery settle consistently. The trace itself
 * must show the fsyncs docs/plugin.md "Crash safety" claims, and dropping one of them from it
 * must make the check fail. No kernel module (dm-flakey) needed; works as any user.
 */

/** Exempt from the directory-fsync rule: the operation lock is not a durable record (a stale one is taken over). */
const NOT_DURABLE = /\/jetson-agent-root\/lock(\.stale-\d+)?$/;

/**
 * The design's fsync claims, checked on a trace of one process: (1) a file is fsynced after
 * its last write before it is renamed into place; (2) after a directory changes (create,
 * rename, unlink, mkdir) that directory is fsynced before the process changes a directory
 * that is not inside it, or exits (building a new directory's content before the one fsync of
 * its parent is fine; a removed directory needs none). Returns the violations.
 */
function fsyncViolations(events: readonly TraceEvent[], pid: number): string[] {
  const fdPath = new Map<string, string>();
  const dirty = new Set<string>();
  const pending = new Map<string, string>();
  const out: string[] = [];
  const inside = (d: string, dir: string): boolean => dir === d || dir.startsWith(d + '/');
  const changeDir = (dir: string, why: string): void => {
    for (const [d, w] of [...pending]) {
      if (inside(d, dir)) continue;
      out.push(`${w}: ${d} not fsynced before ${why}`);
      pending.delete(d);
    }
    if (!pending.has(dir)) pending.set(dir, why);
  };
  for (const e of events) {
    if (e.pid !== pid) continue;
    const [a = '', b = ''] = e.args;
    if (e.op === 'O') {
      fdPath.set(a, e.args[2] ?? '');
      if (b.includes('C') && !NOT_DURABLE.test(e.args[2] ?? '')) changeDir(path.dirname(e.args[2] ?? ''), `create ${e.args[2] ?? ''}`);
    } else if (e.op === 'W' || e.op === 'T') dirty.add(fdPath.get(a) ?? '?');
    else if (e.op === 'S') {
      const p = fdPath.get(a) ?? '?';
      dirty.delete(p);
      pending.delete(p);
    } else if (e.op === 'R') {
      if (dirty.has(a)) out.push(`rename ${a} → ${b} before its data was fsynced`);
      if (dirty.has(a)) dirty.delete(a);
      if (!NOT_DURABLE.test(a)) {
        changeDir(path.dirname(b), `rename → ${b}`);
        if (path.dirname(a) !== path.dirname(b)) pending.set(path.dirname(a), `rename ${a} away`);
      }
    } else if ((e.op === 'U' || e.op === 'M') && !NOT_DURABLE.test(a)) {
      // Removing a directory: nothing in it needs to be durable any more.
      if (e.op === 'U') for (const d of [...pending.keys()]) if (inside(a, d)) pending.delete(d);
      changeDir(path.dirname(a), `${e.op === 'U' ? 'unlink' : 'mkdir'} ${a}`);
    }
  }
  for (const [d, w] of pending) out.push(`${w}: ${d} not fsynced before the process ended`);
  return out;
}

/** A CrashBoard rebuilt at another place (a materialized crash state). */
function boardAt(c: CrashBoard, prefix: string, dir: string): { b: BoardRoot; records: string } {
  const root = path.join(dir, path.relative(prefix, c.b.root));
  const b: BoardRoot = { ...c.b, root, hostTarget: path.join(root, c.b.target), hostLibDir: path.join(root, LIB_DIR) };
  return { b, records: recordsDirOf(b) };
}

interface CrashState {
  readonly model: Model;
  readonly after: string;
  readonly dir: string;
}

/** Every distinct state a power cut during `events` leaves, written under `outDir`. */
function crashStates(prefix: string, start: FsModel, events: readonly TraceEvent[], outDir: string, describe: (i: number) => string): CrashState[] {
  const seen = new Set<string>();
  const states: CrashState[] = [];
  const take = (model: Model, i: number): void => {
    const d = start.digest(model);
    if (seen.has(d)) return;
    seen.add(d);
    const dir = path.join(outDir, String(states.length));
    start.materialize(model, dir);
    states.push({ model, after: describe(i), dir });
  };
  take('fsynced', -1);
  events.forEach((e, i) => {
    start.apply(e);
    take('fsynced', i);
    take('metadata-ordered', i);
  });
  void prefix;
  return states;
}

/** Root's recovery on a materialized state, then the invariants before and after it. */
async function recoverState(c: CrashBoard, prefix: string, st: CrashState): Promise<string[]> {
  const { b, records } = boardAt(c, prefix, st.dir);
  const problems = midwayProblems(b, records, c.shas, c.namesBefore).map((p) => `before recovery: ${p}`);
  const ctx = { paths: new HostPaths(b.root), state: pluginStatePaths(path.join(st.dir, path.relative(prefix, c.state))), records: pluginRecords(records), board: b.board, log: silentLogger, now: () => new Date() };
  try {
    const s = await pluginStatus(ctx, { recover: true });
    problems.push(...settledProblems(b, records, c.shas, s).map((p) => `after recovery: ${p}`));
  } catch (err) {
    problems.push(`recovery failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return problems;
}

const short = (prefix: string) => (p: string | undefined): string => (p ?? '').split(prefix + '/').join('');

t.test('power cut after every recorded call of an install and a restore: recovery settles from what was fsynced', async (t) => {
  const dir = t.testdir({ tree: { root: {}, state: { builds: { k1: {} } } }, states: {} });
  const prefix = path.join(dir, 'tree');
  const c = crashBoard(prefix);
  const shim = path.join(dir, 'fsync-shim.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O1', '-o', shim, path.join(REPO_ROOT, 'test', 'helpers', 'fsync-shim.c'), '-ldl']);
  const rel = short(prefix);
  const traces: Record<string, { events: TraceEvent[]; start: FsModel; pid: number }> = {};
  // For the last part: the tree before the install, a second time.
  const beforeInstall = FsModel.snapshot(prefix);

  for (const op of ['install', 'restore'] as const) {
    const start = FsModel.snapshot(prefix);
    const replay = FsModel.snapshot(prefix);
    const log = path.join(dir, `${op}.trace`);
    const args = op === 'install' ? ['plugin', 'install', '--from', c.good, ...c.base] : ['plugin', 'restore', ...c.base];
    // Without tap's NODE_OPTIONS: its module hooks run the CLI's imports through a loader thread
    // whose file access would be traced (and serialized by the shim's lock) too.
    const r = await runCli(args, { env: { LD_PRELOAD: shim, FSYNC_SHIM_PREFIX: prefix, FSYNC_SHIM_LOG: log, NODE_OPTIONS: undefined }, timeoutMs: 120_000 });
    t.equal(r.code, 0, `${op} under the shim: ${r.stderr}`);
    const events = parseTrace(readFileSync(log, 'utf8'));
    const pid = events.find((e) => e.op === 'O')?.pid ?? 0;
    traces[op] = { events, start, pid };
    // The shim saw every change: replaying the whole trace gives the tree on disk.
    for (const e of events) replay.apply(e);
    t.same(FsModel.replayDiff(replay), [], `${op}: the trace replays to exactly the tree on disk (nothing unrecorded)`);
    const syncs = events.filter((e) => e.op === 'S' && e.pid === pid);
    const fdPath = new Map<string, string>();
    const listed: string[] = [];
    for (const e of events) {
      if (e.pid !== pid) continue;
      if (e.op === 'O') fdPath.set(e.args[0] ?? '', e.args[2] ?? '');
      if (e.op === 'S') listed.push(rel(fdPath.get(e.args[0] ?? '')));
    }
    t.comment(`${op}: ${events.length} recorded calls, ${syncs.length} fsyncs by the agent:\n  ${listed.join('\n  ')}`);
    t.same(fsyncViolations(events, pid), [], `${op}: every rename follows an fsync of the file, every directory change is fsynced before the next`);
  }

  // What the docs claim, in order, for an install (docs/plugin.md "Crash safety").
  const order = traces.install ? claimOrder(traces.install.events, traces.install.pid, rel) : [];
  const claims = [/^root\/var\/lib\/jetson-agent-root\/backups\/\.tmp-[^/]+\/libnvinfer_plugin\.so\.7\.1\.3$/, /backups$/, /jetson-agent-root\/\.journal\.json\.tmp-/, /jetson-agent-root$/, /jetson-agent-diverted\/\.libnvinfer_plugin\.so\.7\.1\.3\.tmp-/, /jetson-agent-diverted$/, /aarch64-linux-gnu\/\.libnvinfer_plugin\.so\.7\.1\.3\.tmp-/, /aarch64-linux-gnu$/, /\.installed\.json\.tmp-/, /jetson-agent-root$/];
  let at = 0;
  for (const re of claims) {
    const found = order.findIndex((p, i) => i >= at && re.test(p));
    t.ok(found >= 0, `install fsyncs ${re.source} (in this order)`);
    if (found >= 0) at = found + 1;
  }

  const states: CrashState[] = [];
  for (const op of ['install', 'restore'] as const) {
    const tr = traces[op];
    if (!tr) continue;
    mkdirSync(path.join(dir, 'states', op));
    states.push(...crashStates(prefix, tr.start, tr.events, path.join(dir, 'states', op), (i) => `${op}, after call ${i}: ${i < 0 ? 'start' : `${tr.events[i]?.op ?? ''} ${rel(tr.events[i]?.args.at(-1))}`}`));
  }
  t.comment(`${states.length} distinct power-cut states`);
  t.ok(states.some((s) => existsSync(path.join(boardAt(c, prefix, s.dir).records, 'journal.json'))), 'some states were cut mid-swap (a journal to recover)');
  const bad: string[] = [];
  for (const st of states) for (const p of await recoverState(c, prefix, st)) bad.push(`${st.model}, ${st.after}: ${p}`);
  t.same(bad, [], 'every power-cut state recovers to the old or the new library with consistent records');

  // The check can fail: the same install trace without the fsync of the library's temp file.
  const install = traces.install;
  if (install) {
    const fdPath = new Map<string, string>();
    const withoutSync = install.events.filter((e) => {
      if (e.pid === install.pid && e.op === 'O') fdPath.set(e.args[0] ?? '', e.args[2] ?? '');
      return !(e.op === 'S' && e.pid === install.pid && /aarch64-linux-gnu\/\.libnvinfer_plugin\.so\.7\.1\.3\.tmp-/.test(fdPath.get(e.args[0] ?? '') ?? ''));
    });
    t.equal(withoutSync.length, install.events.length - 1, 'one fsync dropped');
    t.same(
      fsyncViolations(withoutSync, install.pid).map(rel),
      [`rename ${rel(withoutSync.find((e) => e.op === 'R' && /aarch64-linux-gnu\/\.libnvinfer_plugin/.test(e.args[0] ?? ''))?.args[0])} → root${LIB_DIR}/libnvinfer_plugin.so.7.1.3 before its data was fsynced`],
      'the claim check names it, and only it',
    );
    mkdirSync(path.join(dir, 'states', 'mutant'));
    const mutants = crashStates(prefix, beforeInstall, withoutSync, path.join(dir, 'states', 'mutant'), (i) => `after call ${i}`);
    const torn = mutants.filter((m) => midwayProblems(boardAt(c, prefix, m.dir).b, boardAt(c, prefix, m.dir).records, c.shas, c.namesBefore).some((p) => /neither old nor new/.test(p)));
    t.ok(torn.length > 0, `without that fsync a power cut can leave a library that is neither old nor new (${torn.length} states, e.g. ${torn[0]?.model ?? '-'} ${torn[0]?.after ?? ''})`);
  }
});

/** The paths the agent fsynced, in order. */
function claimOrder(events: readonly TraceEvent[], pid: number, rel: (p: string) => string): string[] {
  const fdPath = new Map<string, string>();
  const out: string[] = [];
  for (const e of events) {
    if (e.pid !== pid) continue;
    if (e.op === 'O') fdPath.set(e.args[0] ?? '', e.args[2] ?? '');
    if (e.op === 'S') out.push(rel(fdPath.get(e.args[0] ?? '') ?? ''));
  }
  return out;
}

import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../../agent/src/core/log.js';
import { HostPaths } from '../../../agent/src/platform/paths.js';
import { pluginStatePaths } from '../../../agent/src/plugin/state-paths.js';
import { pluginRecords } from '../../../agent/src/plugin/records.js';
import { pluginStatus, type PluginStatus } from '../../../agent/src/plugin/status.js';
import { MAIN_JS, cleanEnv, runCli } from '../../helpers/cli.js';
import { ALL_CREATORS, GOOD_SYMBOLS, compileLib, makeBoardRoot, recordsDirOf } from '../../helpers/plugin-board.js';

// The real CLI (`node agent/dist/main.js plugin install|restore`) is SIGKILLed at random
// instants (no test hooks in the agent: plain random delays over the measured run time).
// After every kill the library must hold exactly the old or the new bytes, the backup must
// be intact, and the next command must recover to a verified, consistent state.
// 16 random kills per CI run (the seed is printed; CRASH_KILLS=N runs more locally): the suite's
// time budget, with crash-recovery, crash-helper and power-cut covering recovery, the root helper
// and fsync order systematically.
const KILLS = Number(process.env.CRASH_KILLS ?? 16);
// Runs that finish before their kill delay do not count; under heavy load that can be many.
const MAX_ATTEMPTS = KILLS * 3;
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

/** Deterministic PRNG (mulberry32) so a failure can be replayed with the printed seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Run the CLI; `delayMs` after its first progress line on stderr (the moment it starts
 * working, after Node's start-up) SIGKILL it. Returns how long the working phase lasted
 * when it was not killed.
 */
function runAndKill(args: string[], delayMs: number): Promise<{ killed: boolean; code: number | null; activeMs: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let timer: NodeJS.Timeout | undefined;
    let startedAt = 0;
    child.stderr.on('data', () => {
      if (startedAt) return;
      startedAt = Date.now();
      if (Number.isFinite(delayMs)) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', code, activeMs: startedAt ? Date.now() - startedAt : 0 });
    });
  });
}

t.test(`SIGKILL at ${KILLS} random points during install and restore`, async (t) => {
  const dir = t.testdir({ root: {}, state: {}, cand: {} });
  const b = makeBoardRoot(path.join(dir, 'root'));
  const state = path.join(dir, 'state');
  const base = ['--root', b.root, '--state-dir', state];
  const good = compileLib(path.join(dir, 'cand', 'libnvinfer_plugin.so.7.1.3'), { soname: 'libnvinfer_plugin.so.7', creators: ALL_CREATORS, symbols: GOOD_SYMBOLS, marker: 'oss' });
  const oldSha = sha(b.hostTarget);
  const newSha = sha(good);
  const namesBefore = readdirSync(b.hostLibDir).sort();
  const install = ['plugin', 'install', '--from', good, ...base];
  const restore = ['plugin', 'restore', ...base];

  // Measure one clean install and restore to spread the kills over their whole working time.
  const i0 = await runAndKill(install, Infinity);
  t.equal(i0.code, 0, 'clean install');
  const r0 = await runAndKill(restore, Infinity);
  t.equal(r0.code, 0, 'clean restore');
  const installMs = i0.activeMs;
  const restoreMs = r0.activeMs;
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (CRASH_SEED=${seed} replays), install ${installMs} ms, restore ${restoreMs} ms`);
  const rand = rng(seed);

  const ctx = { paths: new HostPaths(b.root), state: pluginStatePaths(state), records: pluginRecords(recordsDirOf(b)), board: b.board, log: silentLogger, now: () => new Date() };
  let interrupted = 0;
  let killedCount = 0;
  for (let i = 0; killedCount < KILLS && i < MAX_ATTEMPTS; i++) {
    const installed = sha(b.hostTarget) === newSha;
    const args = installed ? restore : install;
    const span = installed ? restoreMs : installMs;
    const delay = Math.floor(span * 0.95 * rand());
    const r = await runAndKill(args, delay);
    if (r.killed) killedCount++;
    const what = `kill #${i} during ${installed ? 'restore' : 'install'} at ${delay} ms`;

    const now = sha(b.hostTarget);
    if (now !== oldSha && now !== newSha) t.fail(`${what}: library holds neither old nor new bytes`);
    const backup = path.join(ctx.records.backupsDir, oldSha);
    const manifest = JSON.parse(readFileSync(path.join(backup, 'manifest.json'), 'utf8')) as { sha256: string; name: string };
    if (manifest.sha256 !== oldSha || sha(path.join(backup, manifest.name)) !== oldSha) t.fail(`${what}: backup damaged`);
    const stray = readdirSync(b.hostLibDir).filter((n) => /^lib.*\.so/.test(n) && !namesBefore.includes(n));
    if (stray.length > 0) t.fail(`${what}: stray library names in the lib dir: ${stray.join(', ')}`);
    if (existsSync(ctx.records.journalFile)) interrupted++;

    // The next command recovers: every 4th time the real CLI (`plugin status`), otherwise the
    // same recovery + status code in-process (keeps the test under 3 min on 2 shared cores).
    let s: PluginStatus;
    if (i % 4 === 0) {
      const st = await runCli(['plugin', 'status', '--json', ...base]);
      if (st.code !== 0) {
        t.fail(`${what}: status after the kill failed: ${st.stdout}${st.stderr}`);
        continue;
      }
      s = JSON.parse(st.stdout) as PluginStatus;
    } else {
      s = await pluginStatus(ctx);
    }
    const after = sha(b.hostTarget);
    const consistent =
      (after === newSha && s.origin === 'custom') || (after === oldSha && s.origin === 'system');
    if (!consistent || s.drift || s.sha256 !== after) t.fail(`${what}: inconsistent after recovery: ${JSON.stringify(s)}`);
    if (existsSync(ctx.records.journalFile)) t.fail(`${what}: journal left after recovery`);
    if (readdirSync(b.hostLibDir).some((n) => n.startsWith('.'))) t.fail(`${what}: temp file left in the lib dir`);
    if (readlinkSync(path.join(b.hostLibDir, 'libnvinfer_plugin.so.7')) !== 'libnvinfer_plugin.so.7.1.3') t.fail(`${what}: SONAME link changed`);
    const diversions = readFileSync(path.join(b.root, 'var/lib/dpkg/diversions'), 'utf8');
    if ((after === newSha) !== diversions.includes(b.target)) t.fail(`${what}: diversion ${diversions ? 'present' : 'absent'} with ${after === newSha ? 'custom' : 'original'} bytes`);
  }
  t.comment(`${killedCount} runs were killed, ${interrupted} of them mid-operation (journal present)`);
  // The same proportions the 52-kill version held (50 really killed, 15 inside the swap window).
  const minKilled = KILLS - Math.ceil(KILLS / 26);
  const minInterrupted = Math.ceil((KILLS * 15) / 52 / 2);
  t.ok(killedCount >= minKilled, `at least ${minKilled} runs were really killed (${killedCount})`);
  t.ok(interrupted >= minInterrupted, `kills landed inside the swap window (${interrupted} with a journal to recover, at least ${minInterrupted})`);

  // Finally both directions still work end to end and verify.
  const endState = sha(b.hostTarget) === newSha ? restore : install;
  t.equal((await runCli(endState)).code, 0, 'a full run after the kills succeeds');
});

import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MAIN_JS, runCli } from '../../helpers/cli.js';
import { runAndKill } from '../../helpers/kill-runner.js';
import { crashBoard, midwayProblems, rng, settledProblems } from '../../helpers/plugin-invariants.js';

/**
 * SIGKILL during recovery itself: an install or restore is cut off at one of its steps after
 * the journal was written (the CLI prints each step on stderr), then root's `plugin status`,
 * which finishes or undoes it, is SIGKILLed — with its children (ldconfig, dpkg-divert, the
 * load-check node) — at a random instant after it says "recovering an interrupted …", once or
 * twice in a row. After every kill the library holds old or new bytes and the backup and the
 * jetson-agent-diverted/ copy are intact; the next recovery settles consistently.
 * No hooks in the agent; replay with CRASH_SEED.
 */
const KILLS = Number(process.env.CRASH_KILLS ?? 5);
const MAX_ROUNDS = KILLS * 3;
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
const INSTALL_STEPS = [/registering the dpkg diversion/, /replacing the library/, /: ldconfig/, /: verifying$/m];
const RESTORE_STEPS = [/writing the original back/, /: ldconfig/, /verifying the original/];

t.test(`SIGKILL during recovery itself, ${KILLS} times`, async (t) => {
  const c = crashBoard(t.testdir({ root: {}, state: { builds: { k1: {} } } }));
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (CRASH_SEED=${seed} replays)`);
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const install = ['plugin', 'install', '--from', c.good, ...c.base];
  const restore = ['plugin', 'restore', ...c.base];
  const recover = ['plugin', 'status', ...c.base];
  const journal = path.join(c.records, 'journal.json');

  /** Cut an install (or a restore, when the custom build is in place) off after its journal is written. */
  const interrupt = async (): Promise<boolean> => {
    const installed = sha(c.b.hostTarget) === c.shas.newSha;
    await runAndKill(MAIN_JS, installed ? restore : install, {}, { after: pick(installed ? RESTORE_STEPS : INSTALL_STEPS), delayMs: Math.floor(rand() * 40) });
    for (const p of midwayProblems(c.b, c.records, c.shas, c.namesBefore)) t.fail(`interrupting: ${p}`);
    return existsSync(journal);
  };

  t.equal((await runCli(install)).code, 0, 'a clean install');
  t.equal((await runCli(restore)).code, 0, 'and restore');
  // How long a recovery runs after announcing itself: the span the kills are spread over.
  let span = 0;
  while (span === 0) {
    if (!(await interrupt())) continue;
    const m = await runAndKill(MAIN_JS, recover, {}, { after: /recovering an interrupted/, delayMs: Infinity });
    t.equal(m.code, 0, 'an undisturbed recovery succeeds');
    span = m.afterTriggerMs;
  }
  t.comment(`a recovery runs ${span} ms after it starts`);

  let kills = 0;
  for (let round = 0; kills < KILLS && round < MAX_ROUNDS; round++) {
    if (!(await interrupt())) continue;
    // Kill the recovery, and half of the time the recovery of that recovery too.
    for (let nested = 0; nested < 2 && existsSync(journal); nested++) {
      const delay = Math.floor(span * 1.1 * rand());
      const r = await runAndKill(MAIN_JS, recover, {}, { after: /recovering an interrupted/, delayMs: delay });
      const what = `round ${round}: recovery${nested ? ' of a killed recovery' : ''} killed ${delay} ms in`;
      if (r.killed) kills++;
      for (const p of midwayProblems(c.b, c.records, c.shas, c.namesBefore)) t.fail(`${what}: ${p}`);
      if (rand() < 0.5) break;
    }
    const s = await c.status();
    if (typeof s === 'string') t.fail(`round ${round}: the next recovery failed: ${s}`);
    else for (const p of settledProblems(c.b, c.records, c.shas, s)) t.fail(`round ${round}: after recovery: ${p}`);
  }
  t.ok(kills >= KILLS, `${kills} recoveries were killed mid-way`);
});

import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/cli.js';
import { runAndKill } from '../../helpers/kill-runner.js';
import { crashBoard, midwayProblems, rng, settledProblems } from '../../helpers/plugin-invariants.js';

/**
 * SIGKILL on the root helper path: jetson-agent-plugin-helper.js, started the way
 * jetson-agent-plugin.path starts it, handles install/restore requests and is killed at a
 * random instant — either the whole process group (the helper, its `plugin install|restore`
 * child, ldconfig, dpkg-divert, the load-check node), or only the `plugin` child while the
 * helper lives on (it must then report the failure in result.json). After every kill the
 * library holds old or new bytes, backup and divert copy are intact; the next helper request
 * or root `plugin status` settles consistently, and no request is left to re-trigger the unit.
 */
const KILLS = Number(process.env.CRASH_KILLS ?? 6);
const MAX_ROUNDS = KILLS * 3;
const HELPER_JS = path.join(REPO_ROOT, 'agent', 'dist', 'bin', 'jetson-agent-plugin-helper.js');
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

t.test(`SIGKILL on the root helper path, ${KILLS} times: the whole group or only the plugin child`, { skip: process.getuid?.() !== 0 ? 'the helper runs as root (CI does)' : false }, async (t) => {
  const dir = t.testdir({ root: {}, state: { plugin: {}, builds: { k1: {} } }, work: {} });
  const c = crashBoard(dir);
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
  t.comment(`seed ${seed} (CRASH_SEED=${seed} replays)`);
  const rand = rng(seed);
  const env = { JETSON_AGENT_STATE_DIR: c.state, RUNTIME_DIRECTORY: path.join(dir, 'work'), JETSON_AGENT_HOST_ROOT: c.b.root };
  const exchange = path.join(c.state, 'plugin');
  let n = 0;
  const request = (): string => {
    const installed = sha(c.b.hostTarget) === c.shas.newSha;
    const id = `r${++n}`;
    const req = installed ? { version: 1, id, op: 'restore' } : { version: 1, id, op: 'install', artifact: 'builds/k1/libnvinfer_plugin.so.7.1.3', sha256: c.shas.newSha };
    writeFileSync(path.join(exchange, '.request.tmp'), JSON.stringify(req));
    renameSync(path.join(exchange, '.request.tmp'), path.join(exchange, 'request.json'));
    return installed ? 'restore' : 'install';
  };

  // Measure: the whole run from the start, and the child's run from its appearance.
  request();
  const whole = await runAndKill(HELPER_JS, [], env, { after: 'start', delayMs: Infinity });
  t.equal(whole.code, 0, 'a clean install through the helper');
  request();
  const child = await runAndKill(HELPER_JS, [], env, { after: 'child', delayMs: Infinity });
  t.equal(child.code, 0, 'a clean restore through the helper');
  t.comment(`helper run ${whole.afterTriggerMs} ms, its plugin child ${child.afterTriggerMs} ms`);

  let kills = 0;
  let journals = 0;
  for (let round = 0; kills < KILLS && round < MAX_ROUNDS; round++) {
    const mode = round % 2 === 0 ? 'group' : 'child';
    // Both count from the plugin child's start: the helper has taken the request by then (a
    // helper killed before it took it leaves request.json, rightly, for the next start).
    // Every third round is killed the moment the swap's journal appears, so some kills land
    // inside the swap window by event whatever the machine's speed; the others at random.
    const inWindow = round % 3 === 2;
    const delay = inWindow ? 0 : Math.floor(child.afterTriggerMs * 0.95 * rand());
    const op = request();
    const r = await runAndKill(HELPER_JS, [], env, { after: inWindow ? { file: path.join(c.records, 'journal.json') } : 'child', group: mode === 'group', delayMs: delay });
    const what = `round ${round}: ${mode === 'group' ? 'process group' : 'plugin child'} killed ${inWindow ? 'when the journal appeared' : `${delay} ms`} into a ${op}`;
    if (r.killed) kills++;
    for (const p of midwayProblems(c.b, c.records, c.shas, c.namesBefore)) t.fail(`${what}: ${p}`);
    if (existsSync(path.join(c.records, 'journal.json'))) journals++;
    if (mode === 'child' && r.killed) {
      const res = JSON.parse(readFileSync(path.join(exchange, 'result.json'), 'utf8')) as { ok: boolean; id: string };
      if (res.ok || res.id !== `r${n}`) t.fail(`${what}: the helper outlived its child but did not report the failure: ${JSON.stringify(res)}`);
    }
    if (existsSync(path.join(exchange, 'request.json'))) t.fail(`${what}: the request was left for the path unit to re-trigger on`);
    // Recovery: every other round through the next helper request, else root's `plugin status`.
    if (round % 4 < 2) {
      request();
      const next = await runAndKill(HELPER_JS, [], env, { after: 'start', delayMs: Infinity });
      if (next.code !== 0) t.fail(`${what}: the next helper request failed (exit ${next.code}): ${readFileSync(path.join(exchange, 'result.json'), 'utf8')}`);
    }
    const s = await c.status();
    if (typeof s === 'string') t.fail(`${what}: recovery failed: ${s}`);
    else for (const p of settledProblems(c.b, c.records, c.shas, s)) t.fail(`${what}: ${p}`);
  }
  t.comment(`${kills} helper runs killed, ${journals} of them left a journal to recover`);
  t.ok(kills >= KILLS, `at least ${KILLS} runs were really killed (${kills})`);
  t.ok(journals >= 1, `kills landed inside the swap window (${journals})`);
});

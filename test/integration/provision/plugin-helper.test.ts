import t from 'tap';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import { handlePluginRequest, parseRequest } from '../../../agent/src/provision/plugin-helper.js';

/**
 * The root helper behind jetson-agent-plugin.path (docs/provisioning.md "Plugin helper").
 * `jetson-agent plugin install|restore` belongs to the plugin feature; here a stand-in
 * main.js records the argv it was called with, so these tests prove the helper's side of
 * the contract (request handling, hash check on a private copy, result file), not a swap.
 */
const FAKE_MAIN = `
import { appendFileSync, readFileSync } from 'node:fs';
const args = process.argv.slice(2);
const art = args.includes('--from') ? args[args.indexOf('--from') + 1] : null;
appendFileSync(process.env.CALLS ?? new URL('./calls.jsonl', import.meta.url).pathname,
  JSON.stringify({ args, artifact: art ? readFileSync(art, 'utf8') : null }) + '\\n');
if (args[1] === 'restore' && process.env.FAIL_RESTORE) { process.stderr.write('restore failed: no backup\\n'); process.exit(1); }
process.stdout.write(JSON.stringify({ op: args[1], swapped: true }) + '\\n');
`;

function setup(tt: { testdir: typeof t.testdir }, request?: unknown): { state: string; work: string; main: string; calls: string } {
  const dir = tt.testdir({ state: { plugin: {}, builds: { k1: {} } }, work: {}, agent: { 'main.js': FAKE_MAIN } });
  const state = path.join(dir, 'state');
  if (request !== undefined) writeFileSync(path.join(state, 'plugin', 'request.json'), typeof request === 'string' ? request : JSON.stringify(request));
  return { state, work: path.join(dir, 'work'), main: path.join(dir, 'agent', 'main.js'), calls: path.join(dir, 'agent', 'calls.jsonl') };
}
const calls = (file: string): Array<{ args: string[]; artifact: string | null }> =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { args: string[]; artifact: string | null }) : [];
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
const readResult = (state: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(state, 'plugin', 'result.json'), 'utf8')) as Record<string, unknown>;

t.test('install: verifies the hash, hands a private copy to `plugin install`, writes result.json', async (t) => {
  const lib = 'ELF pretend plugin';
  const s = setup(t, { version: 1, id: 'req-1', op: 'install', artifact: 'builds/k1/libnvinfer_plugin.so.8.6.2', sha256: sha(lib) });
  writeFileSync(path.join(s.state, 'builds/k1/libnvinfer_plugin.so.8.6.2'), lib);
  const r = await handlePluginRequest({ stateDir: s.state, workDir: s.work, agentMain: s.main });
  t.equal(r?.ok, true);
  t.notOk(existsSync(path.join(s.state, 'plugin', 'request.json')), 'request taken away (PathExists= would re-trigger)');
  const [call] = calls(s.calls);
  t.same(call?.args.slice(0, 5), ['plugin', 'install', '--state-dir', s.state, '--json']);
  const staged = call?.args[call.args.indexOf('--from') + 1] ?? '';
  t.ok(staged.startsWith(s.work + path.sep), `artifact staged in the root-only work dir: ${staged}`);
  t.equal(path.basename(staged), 'libnvinfer_plugin.so.8.6.2', 'file name kept');
  t.equal(call?.artifact, lib, 'the copy has the verified content');
  t.same(call?.args.slice(-2), ['--from', staged], 'plugin install --from <verified copy>');
  t.notOk(existsSync(staged), 'staged copy removed afterwards');
  const res = readResult(s.state);
  t.match(res, { version: 1, id: 'req-1', op: 'install', ok: true, exitCode: 0, error: null, output: { op: 'install', swapped: true } });
});

t.test('install with a wrong hash is refused before the agent command runs', async (t) => {
  const s = setup(t, { version: 1, id: 'req-2', op: 'install', artifact: 'builds/k1/lib.so', sha256: sha('other') });
  writeFileSync(path.join(s.state, 'builds/k1/lib.so'), 'tampered');
  const r = await handlePluginRequest({ stateDir: s.state, workDir: s.work, agentMain: s.main });
  t.equal(r?.ok, false);
  t.equal(r?.error?.code, 'PLUGIN_ARTIFACT_HASH_MISMATCH');
  t.same(calls(s.calls), [], 'plugin install never called');
  t.equal(readResult(s.state).id, 'req-2');
});

t.test('symlinked request or artifact is refused (the agent cannot make root read other files)', async (t) => {
  const s = setup(t);
  writeFileSync(path.join(s.state, 'secret'), '{"version":1,"id":"x","op":"restore"}');
  symlinkSync(path.join(s.state, 'secret'), path.join(s.state, 'plugin', 'request.json'));
  const r = await handlePluginRequest({ stateDir: s.state, workDir: s.work, agentMain: s.main });
  t.equal(r?.ok, false);
  t.equal(r?.error?.code, 'PLUGIN_REQUEST_INVALID');
  t.same(calls(s.calls), []);

  const s2 = setup(t, { version: 1, id: 'req-3', op: 'install', artifact: 'builds/k1/lib.so', sha256: sha('x') });
  mkdirSync(path.join(s2.state, '..', 'outside'));
  writeFileSync(path.join(s2.state, '..', 'outside', 'lib.so'), 'x');
  symlinkSync(path.join(s2.state, '..', 'outside', 'lib.so'), path.join(s2.state, 'builds/k1/lib.so'));
  const r2 = await handlePluginRequest({ stateDir: s2.state, workDir: s2.work, agentMain: s2.main });
  t.equal(r2?.error?.code, 'PLUGIN_REQUEST_INVALID', 'final symlink not followed');
  t.same(calls(s2.calls), []);
});

t.test('restore: runs `plugin restore`; a failing command gives ok:false with the stderr tail', async (t) => {
  const s = setup(t, { version: 1, id: 'r1', op: 'restore' });
  const ok = await handlePluginRequest({ stateDir: s.state, workDir: s.work, agentMain: s.main });
  t.equal(ok?.ok, true);
  t.same(calls(s.calls)[0]?.args, ['plugin', 'restore', '--state-dir', s.state, '--json']);

  const f = setup(t, { version: 1, id: 'r2', op: 'restore' });
  process.env.FAIL_RESTORE = '1';
  t.teardown(() => delete process.env.FAIL_RESTORE);
  const bad = await handlePluginRequest({ stateDir: f.state, workDir: f.work, agentMain: f.main });
  t.equal(bad?.ok, false);
  t.equal(bad?.exitCode, 1);
  t.equal(bad?.error?.code, 'PLUGIN_COMMAND_FAILED');
  t.match(bad?.stderrTail, /no backup/);
});

t.test('result.json goes to the state dir owner through the handle; a symlink in its place is replaced, never followed', { skip: process.getuid?.() !== 0 ? 'needs root to chown to the agent user' : false }, async (t) => {
  // As root (here and in CI): the agent is uid 65534 owning the state dir.
  const s = setup(t, { version: 1, id: 'o1', op: 'restore' });
  chownSync(s.state, 65534, 65534);
  const victim = path.join(s.state, '..', 'sudoers');
  writeFileSync(victim, 'root ALL=(ALL) ALL\n', { mode: 0o440 });
  const result = path.join(s.state, 'plugin', 'result.json');
  symlinkSync(victim, result);
  t.equal((await handlePluginRequest({ stateDir: s.state, workDir: s.work, agentMain: s.main }))?.ok, true);
  const st = lstatSync(result);
  t.ok(st.isFile(), 'the planted symlink was replaced by a regular file');
  t.same([st.uid, st.gid, st.mode & 0o777], [65534, 65534, 0o640], 'owned by the agent, mode 0640');
  t.equal(readResult(s.state).id, 'o1');
  t.same([statSync(victim).uid, statSync(victim).mode & 0o777, readFileSync(victim, 'utf8')], [0, 0o440, 'root ALL=(ALL) ALL\n'], 'target untouched');

  // The race: the agent swaps result.json for a symlink right after the helper's rename.
  const r = setup(t, { version: 1, id: 'o2', op: 'restore' });
  chownSync(r.state, 65534, 65534);
  const victim2 = path.join(r.state, '..', 'shadow');
  writeFileSync(victim2, 'secret\n', { mode: 0o600 });
  const dir = path.join(r.state, 'plugin');
  let swapped = false;
  const w = watch(dir, (_event, name) => {
    if (name !== 'result.json' || swapped || !existsSync(path.join(dir, 'result.json'))) return;
    swapped = true;
    symlinkSync(victim2, path.join(dir, 'evil'));
    renameSync(path.join(dir, 'evil'), path.join(dir, 'result.json'));
  });
  t.teardown(() => w.close());
  await handlePluginRequest({ stateDir: r.state, workDir: r.work, agentMain: r.main });
  await new Promise((res) => setTimeout(res, 50));
  t.ok(swapped, 'the swap happened');
  t.same([statSync(victim2).uid, statSync(victim2).mode & 0o777], [0, 0o600], 'root file not chowned to the agent');
});

t.test('no request → nothing written; garbage → invalid result', async (t) => {
  const s = setup(t);
  t.equal(await handlePluginRequest({ stateDir: s.state, workDir: s.work, agentMain: s.main }), undefined);
  t.notOk(existsSync(path.join(s.state, 'plugin', 'result.json')));
  const g = setup(t, 'not json');
  const r = await handlePluginRequest({ stateDir: g.state, workDir: g.work, agentMain: g.main });
  t.equal(r?.error?.code, 'PLUGIN_REQUEST_INVALID');
  t.equal(r?.id, null);
});

t.test('parseRequest rejects path escapes and unknown ops', async (t) => {
  const base = { version: 1, id: 'a', op: 'install', sha256: sha('x') };
  for (const artifact of ['../etc/shadow', '/etc/shadow', 'builds//x', 'builds/../../x', '']) {
    t.throws(() => parseRequest({ ...base, artifact }), { code: 'PLUGIN_REQUEST_INVALID' }, artifact);
  }
  t.throws(() => parseRequest({ ...base, op: 'build' }), { code: 'PLUGIN_REQUEST_INVALID' });
  t.throws(() => parseRequest({ ...base, id: 'a/b', artifact: 'x' }), { code: 'PLUGIN_REQUEST_INVALID' });
  t.throws(() => parseRequest({ ...base, version: 2, artifact: 'x' }), { code: 'PLUGIN_REQUEST_INVALID' });
  t.same(parseRequest({ ...base, artifact: 'builds/k/lib.so' }), { ...base, artifact: 'builds/k/lib.so' });
});

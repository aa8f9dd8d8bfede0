import t from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, statSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../../agent/src/core/log.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import { HostPaths } from '../../../agent/src/platform/paths.js';
import type { PluginContext } from '../../../agent/src/plugin/context.js';
import { installPlugin } from '../../../agent/src/plugin/swap.js';
import { restorePlugin } from '../../../agent/src/plugin/restore.js';
import { pluginStatus } from '../../../agent/src/plugin/status.js';
import { pluginStatePaths } from '../../../agent/src/plugin/state-paths.js';
import { pluginRecords } from '../../../agent/src/plugin/records.js';
import { publishRecordsView } from '../../../agent/src/plugin/records-view.js';
import type { InstalledRecord } from '../../../agent/src/plugin/journal.js';
import { runCli } from '../../helpers/cli.js';
import { ALL_CREATORS, GOOD_SYMBOLS, compileLib, makeBoardRoot, recordsDirOf, type BoardRoot } from '../../helpers/plugin-board.js';

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

function setup(test: { testdir: typeof t.testdir }, options: { dpkg?: boolean } = {}): { b: BoardRoot; ctx: PluginContext; dir: string; good: string } {
  const dir = test.testdir({ root: {}, state: {}, cand: {} });
  const b = makeBoardRoot(path.join(dir, 'root'), options);
  const ctx: PluginContext = {
    paths: new HostPaths(b.root),
    state: pluginStatePaths(path.join(dir, 'state')),
    records: pluginRecords(recordsDirOf(b)),
    board: b.board,
    log: silentLogger,
    now: () => new Date('2026-01-01T00:00:00Z'),
  };
  const good = compileLib(path.join(dir, 'cand', 'libnvinfer_plugin.so.7.1.3'), {
    soname: 'libnvinfer_plugin.so.7',
    creators: ALL_CREATORS,
    symbols: GOOD_SYMBOLS,
    marker: 'oss-build',
  });
  return { b, ctx, dir, good };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof AgentError ? err.code : `non-agent error: ${String(err)}`;
  }
}

/** No backup, temp file or divert copy may appear as a lib*.so* name in the library dir. */
function libDirNames(b: BoardRoot): string[] {
  return readdirSync(b.hostLibDir).sort();
}

t.test('install swaps a real ELF library in place: backup outside the lib dir, links kept, verified, diverted', async (t) => {
  const { b, ctx, good } = setup(t);
  const before = sha(b.hostTarget);
  const names = libDirNames(b);
  const r = await installPlugin(ctx, { candidateFile: good, builtFor: { arch: '53', branch: 'release/7.1', tensorrt: '7.1.3' } });
  t.equal(r.changed, true);
  t.equal(sha(b.hostTarget), sha(good), 'the system file name now holds the new bytes');
  t.equal(readlinkSync(path.join(b.hostLibDir, 'libnvinfer_plugin.so.7')), 'libnvinfer_plugin.so.7.1.3', 'SONAME link kept');
  t.equal(readlinkSync(path.join(b.hostLibDir, 'libnvinfer_plugin.so')), 'libnvinfer_plugin.so.7', 'dev link kept');
  t.same(libDirNames(b).filter((n) => !names.includes(n)), ['jetson-agent-diverted'], 'only the divert subdirectory is new in the lib dir');
  t.equal(r.loadCheck, 'ran', 'load check ran: the test library is built for this host');
  const manifest = JSON.parse(readFileSync(path.join(ctx.records.backupsDir, before, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  t.equal(manifest.sha256, before);
  t.equal(manifest.originalPath, b.target);
  t.equal(sha(path.join(ctx.records.backupsDir, before, 'libnvinfer_plugin.so.7.1.3')), before, 'backup holds the original bytes');
  const div = readFileSync(path.join(b.root, 'var/lib/dpkg/diversions'), 'utf8');
  t.match(div, `${b.target}\n/usr/lib/aarch64-linux-gnu/jetson-agent-diverted/libnvinfer_plugin.so.7.1.3\n:\n`, 'local diversion into the subdirectory, not .distrib');
  // ldconfig -n on the real dir still picks the right file for the SONAME link
  execFileSync('ldconfig', ['-n', b.hostLibDir]);
  t.equal(readlinkSync(path.join(b.hostLibDir, 'libnvinfer_plugin.so.7')), 'libnvinfer_plugin.so.7.1.3');

  const st = await pluginStatus(ctx);
  t.same(
    { origin: st.origin, drift: st.drift, sha256: st.sha256, builtFor: st.builtFor, backup: st.backup?.sha256 },
    { origin: 'custom', drift: false, sha256: sha(good), builtFor: { arch: '53', branch: 'release/7.1', tensorrt: '7.1.3' }, backup: before },
  );

  const again = await installPlugin(ctx, { candidateFile: good, builtFor: null });
  t.equal(again.changed, false, 'installing the same bytes again is a verified no-op');

  const back = await restorePlugin(ctx);
  t.equal(back.changed, true);
  t.equal(sha(b.hostTarget), before, 'restore puts the original bytes back');
  t.equal(readFileSync(path.join(b.root, 'var/lib/dpkg/diversions'), 'utf8'), '', 'diversion removed');
  t.notOk(existsSync(path.join(b.hostLibDir, 'jetson-agent-diverted')), 'divert dir removed');
  t.same(libDirNames(b), names, 'lib dir exactly as before');
  const st2 = await pluginStatus(ctx);
  t.same({ origin: st2.origin, drift: st2.drift }, { origin: 'system', drift: false });
  t.equal((await restorePlugin(ctx)).changed, false, 'a second restore is a no-op');
});

t.test('bad candidates: clear coded errors listing the problem, system library untouched', async (t) => {
  const { b, ctx, dir } = setup(t);
  const before = sha(b.hostTarget);
  const names = libDirNames(b);
  const cases: [string, string, RegExp][] = [];
  writeFileSync(path.join(dir, 'cand', 'text.so'), 'this is not a library\n');
  cases.push(['non-ELF file', path.join(dir, 'cand', 'text.so'), /not an ELF shared library/]);
  const other = path.join(dir, 'cand', 'other-machine.so');
  copyFileSync(compileLib(path.join(dir, 'cand', 'x.so'), { soname: 'libnvinfer_plugin.so.7', creators: ALL_CREATORS, symbols: GOOD_SYMBOLS }), other);
  // No cross compiler here: turn a real host library into an AArch64 one by its e_machine (offset 18, EM_AARCH64 = 183).
  const buf = readFileSync(other);
  buf.writeUInt16LE(183, 18);
  writeFileSync(other, buf);
  cases.push(['library for another machine (e_machine patched to AArch64)', other, /built for AArch64, but the system library is x86-64/]);
  const wrongSoname = compileLib(path.join(dir, 'cand', 'so8.so'), { soname: 'libnvinfer_plugin.so.8', creators: ALL_CREATORS, symbols: GOOD_SYMBOLS });
  cases.push(['wrong SONAME major', wrongSoname, /SONAME is libnvinfer_plugin\.so\.8, expected libnvinfer_plugin\.so\.7 \(SONAME major differs\)/]);
  const r70 = compileLib(path.join(dir, 'cand', 'so700.so'), { soname: 'libnvinfer_plugin.so.7.0.0', creators: ALL_CREATORS, symbols: GOOD_SYMBOLS });
  cases.push(['release/7.0-style SONAME .so.7.0.0', r70, /SONAME is libnvinfer_plugin\.so\.7\.0\.0, expected libnvinfer_plugin\.so\.7/]);
  const noCreators = compileLib(path.join(dir, 'cand', 'nocreators.so'), { soname: 'libnvinfer_plugin.so.7', creators: ['BatchedNMS_TRT'], symbols: ['getPluginRegistry'] });
  cases.push(['missing plugin creators', noCreators, /missing plugin creators: BatchTilePlugin_TRT, ResizeNearest_TRT; missing exported symbols: initLibNvInferPlugins/]);
  for (const [what, file, re] of cases) {
    let err: AgentError | undefined;
    try {
      await installPlugin(ctx, { candidateFile: file, builtFor: null });
    } catch (e) {
      err = e as AgentError;
    }
    t.equal(err?.code, 'PLUGIN_CANDIDATE_INVALID', what);
    t.match(err?.message ?? '', re, `${what}: message names the problem`);
    t.equal(sha(b.hostTarget), before, `${what}: system library untouched`);
    t.same(libDirNames(b), names, `${what}: nothing added to the lib dir`);
  }
  t.equal(await codeOf(installPlugin(ctx, { candidateFile: path.join(dir, 'cand', 'missing.so'), builtFor: null })), 'FS_ERROR', 'missing candidate file');
  t.notOk(existsSync(ctx.records.backupsDir) && readdirSync(ctx.records.backupsDir).length > 0, 'no backup was made for a rejected candidate');
  t.equal(await codeOf(restorePlugin(ctx)), 'PLUGIN_BACKUP_MISSING', 'restore with nothing installed and no backup');
});

t.test('a library that fails the load check is rolled back automatically: PLUGIN_VERIFY_FAILED', async (t) => {
  const { b, ctx, dir } = setup(t);
  const before = sha(b.hostTarget);
  // Passes every static check but needs a symbol nothing provides: dlopen(RTLD_NOW) fails.
  const src = path.join(dir, 'cand', 'undef.c');
  writeFileSync(src, `extern int missing_symbol_xyz(void);\n${ALL_CREATORS.map((c, i) => `const char *c${i}(void){return "${c}";}`).join('\n')}\nint initLibNvInferPlugins(void){return missing_symbol_xyz();}\n`);
  const bad = path.join(dir, 'cand', 'undef.so');
  execFileSync('cc', ['-shared', '-fPIC', '-Wl,-soname,libnvinfer_plugin.so.7', '-o', bad, src]);
  let err: AgentError | undefined;
  try {
    await installPlugin(ctx, { candidateFile: bad, builtFor: null });
  } catch (e) {
    err = e as AgentError;
  }
  t.equal(err?.code, 'PLUGIN_VERIFY_FAILED');
  t.match(err?.message ?? '', /load check failed: .*undefined symbol: missing_symbol_xyz/);
  t.match(err?.message ?? '', /original library was restored and verified/);
  t.equal(sha(b.hostTarget), before, 'original bytes back');
  t.equal(readFileSync(path.join(b.root, 'var/lib/dpkg/diversions'), 'utf8'), '', 'diversion undone');
  t.notOk(existsSync(ctx.records.journalFile), 'no journal left');
  const st = await pluginStatus(ctx);
  t.same({ origin: st.origin, drift: st.drift }, { origin: 'system', drift: false });
});

t.test('PACKAGE_MANAGER_BUSY while another process holds the dpkg fcntl lock', async (t) => {
  const { b, ctx, good } = setup(t);
  const before = sha(b.hostTarget);
  const lockFile = path.join(b.root, 'var/lib/dpkg/lock-frontend');
  const holder = spawn('python3', ['-c', 'import fcntl,os,sys; fd=os.open(sys.argv[1], os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX); print("locked", flush=True); sys.stdin.read()', lockFile], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  let err: AgentError | undefined;
  try {
    await installPlugin(ctx, { candidateFile: good, builtFor: null });
  } catch (e) {
    err = e as AgentError;
  }
  holder.stdin.end();
  await new Promise((resolve) => holder.once('close', resolve));
  t.equal(err?.code, 'PACKAGE_MANAGER_BUSY');
  t.match(err?.message ?? '', /\/var\/lib\/dpkg\/lock-frontend/);
  t.equal(sha(b.hostTarget), before, 'untouched');
  t.equal((await installPlugin(ctx, { candidateFile: good, builtFor: null })).changed, true, 'works once the lock is released');
});

t.test('read-only library dir: FS_ERROR before anything is touched', async (t) => {
  const { b, ctx, good } = setup(t);
  const before = sha(b.hostTarget);
  // Root ignores permission bits, so as root make the directory immutable (chattr +i) instead.
  const asRoot = process.getuid?.() === 0;
  try {
    if (asRoot) execFileSync('chattr', ['+i', b.hostLibDir], { stdio: 'ignore' });
    else chmodSync(b.hostLibDir, 0o555);
  } catch {
    t.plan(0, 'chattr +i is not supported on this file system');
    return;
  }
  let err: AgentError | undefined;
  try {
    await installPlugin(ctx, { candidateFile: good, builtFor: null });
  } catch (e) {
    err = e as AgentError;
  } finally {
    // before tap removes the test dir
    if (asRoot) execFileSync('chattr', ['-i', b.hostLibDir]);
    else chmodSync(b.hostLibDir, 0o755);
  }
  t.equal(err?.code, 'FS_ERROR');
  t.match(err?.message ?? '', /library directory \/usr\/lib\/aarch64-linux-gnu is not writable; nothing was changed/);
  t.equal(sha(b.hostTarget), before);
  t.notOk(existsSync(ctx.records.journalFile), 'no journal: nothing started');
});

t.test('restore with the backup deleted: PLUGIN_BACKUP_MISSING, custom library left as is', async (t) => {
  const { b, ctx, good } = setup(t);
  const before = sha(b.hostTarget);
  await installPlugin(ctx, { candidateFile: good, builtFor: null });
  execFileSync('rm', ['-rf', path.join(ctx.records.backupsDir, before)]);
  t.equal(await codeOf(restorePlugin(ctx)), 'PLUGIN_BACKUP_MISSING');
  t.equal(sha(b.hostTarget), sha(good), 'library untouched');
});

t.test('drift: a package upgrade overwrote the swapped file', async (t) => {
  const { b, ctx, good, dir } = setup(t);
  await installPlugin(ctx, { candidateFile: good, builtFor: null });
  // What dpkg does on upgrade without a diversion: new original bytes under the same name.
  const upgraded = compileLib(path.join(dir, 'cand', 'upgraded.so'), { soname: 'libnvinfer_plugin.so.7', creators: ['BatchedNMS_TRT'], symbols: ['initLibNvInferPlugins'], marker: 'stock-7.1.3-2' });
  copyFileSync(upgraded, b.hostTarget);
  const st = await pluginStatus(ctx);
  t.equal(st.drift, true);
  t.equal(st.origin, 'system');
  t.match(st.reason, /neither the installed custom build nor the backed-up original/);
  // Re-installing treats the upgraded file as the new original and backs it up.
  await installPlugin(ctx, { candidateFile: good, builtFor: null });
  await restorePlugin(ctx);
  t.equal(sha(b.hostTarget), sha(upgraded), 'restore brings back the upgraded original, not the older one');
});

t.test('one plugin operation at a time: a live owner of the lock → BUSY; a dead owner is taken over', async (t) => {
  const { b, ctx, good } = setup(t);
  const before = sha(b.hostTarget);
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => sleeper.kill('SIGKILL'));
  mkdirSync(ctx.records.dir, { recursive: true, mode: 0o700 });
  writeFileSync(ctx.records.lockFile, `${sleeper.pid ?? 0}\n`);
  let err: AgentError | undefined;
  try {
    await installPlugin(ctx, { candidateFile: good, builtFor: null });
  } catch (e) {
    err = e as AgentError;
  }
  t.equal(err?.code, 'BUSY');
  t.match(err?.message ?? '', new RegExp(`pid ${sleeper.pid ?? 0}`));
  t.equal(sha(b.hostTarget), before, 'untouched');
  t.equal((await pluginStatus(ctx)).origin, 'system', 'status still answers (read-only) while locked');
  sleeper.kill('SIGKILL');
  await new Promise((resolve) => sleeper.once('close', resolve));
  t.equal((await installPlugin(ctx, { candidateFile: good, builtFor: null })).changed, true, 'the dead owner’s lock is taken over');
  t.notOk(existsSync(ctx.records.lockFile), 'lock released');
});

// The tests below: after root (the helper unit or Ansible) swapped the plugin, the unprivileged agent must still
// read the status (daemon drift check, `plugin-status` request) from the view root publishes (the records dir is
// 0700 root); it must not try recovery, which rewrites the system library. Needs root to switch to another user.
const asRoot = { skip: process.getuid?.() !== 0 ? 'needs root to run the CLI as another user' : false };

/** A journal as root's writer leaves it, with the pid of the writer (`pid`), and the view published of it. */
async function plantJournal(ctx: PluginContext, j: Record<string, unknown>, pid: number): Promise<void> {
  writeFileSync(ctx.records.journalFile, JSON.stringify({ ...j, pid }), { mode: 0o600 });
  await publishRecordsView(ctx);
}
/** The pid of a process that has exited. */
const deadPid = (): number => spawnSync('true').pid ?? 1;

t.test('the records are root-only; the agent cannot read them, only the view root publishes', asRoot, async (t) => {
  const { b, ctx, dir, good } = setup(t);
  const before = sha(b.hostTarget);
  await installPlugin(ctx, { candidateFile: good, builtFor: { arch: '53', branch: 'release/7.1', tensorrt: '7.1.3' } });
  const mode = (p: string): number => statSync(p).mode & 0o7777;
  t.same([mode(ctx.records.dir), statSync(ctx.records.dir).uid], [0o700, 0], 'records dir 0700 root');
  t.same([mode(ctx.records.installedFile), mode(path.join(ctx.records.backupsDir, before))], [0o600, 0o700]);
  const backupFile = path.join(ctx.records.backupsDir, before, 'libnvinfer_plugin.so.7.1.3');
  t.equal(mode(backupFile), 0o600, 'the backup keeps bytes only: 0600, no special bits');
  t.notOk(existsSync(path.join(dir, 'state', 'backups')), 'nothing root acts on in the state dir');
  t.notOk(existsSync(path.join(dir, 'state', 'plugin', 'installed.json')));
  const view = JSON.parse(readFileSync(ctx.state.viewFile, 'utf8')) as { installed: { sha256: string }; backups: { sha256: string }[] };
  t.same([view.installed.sha256, view.backups.map((x) => x.sha256)], [sha(good), [before]], 'the view lists the installed build and the backup');
  chownSync(ctx.state.stateDir, 65534, 65534);
  chownSync(ctx.state.pluginDir, 65534, 65534);
  const denied = spawnSync(process.execPath, ['-e', `require('fs').readFileSync(${JSON.stringify(ctx.records.installedFile)})`], { uid: 65534, gid: 65534, encoding: 'utf8' });
  t.match(denied.stderr, /EACCES/, 'the agent user cannot read the records');
});

t.test('a swap under way (journal + live writer) is reported as in progress, not as interrupted', asRoot, async (t) => {
  const { b, ctx, dir, good } = setup(t);
  const before = sha(b.hostTarget);
  await installPlugin(ctx, { candidateFile: good, builtFor: { arch: '53', branch: 'release/7.1', tensorrt: '7.1.3' } });
  chownSync(ctx.state.stateDir, 65534, 65534);
  chownSync(ctx.state.pluginDir, 65534, 65534);
  const record = JSON.parse(readFileSync(ctx.records.installedFile, 'utf8')) as InstalledRecord;
  const journal = { op: 'restore', target: b.target, linkName: 'libnvinfer_plugin.so.7', backupSha: before, fromSha: record.sha256, startedAt: '2026-01-01T00:00:00.000Z' };
  // This test process plays the root helper's `plugin restore`, alive and holding the lock.
  await plantJournal(ctx, journal, process.pid);
  const asAgent = async (): Promise<{ drift: boolean; reason: string }> => {
    const r = await runCli(['plugin', 'status', '--json', '--root', b.root, '--state-dir', path.join(dir, 'state')], { uid: 65534 });
    t.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { drift: boolean; reason: string };
  };
  const running = await asAgent();
  t.equal(running.drift, false);
  t.match(running.reason, new RegExp(`a plugin restore is in progress \\(pid ${process.pid}`));
  await plantJournal(ctx, journal, deadPid());
  const left = await asAgent();
  t.equal(left.drift, true, 'writer gone: interrupted');
  t.match(left.reason, /interrupted plugin restore .* awaits recovery by root/);
});

t.test('the unprivileged agent reads what root installed, and is told when recovery awaits root', asRoot, async (t) => {
  const { b, ctx, dir, good } = setup(t);
  const before = sha(b.hostTarget);
  await installPlugin(ctx, { candidateFile: good, builtFor: { arch: '53', branch: 'release/7.1', tensorrt: '7.1.3' } });
  // The layout the role makes: the agent owns the state dir and the plugin request dir.
  chownSync(ctx.state.stateDir, 65534, 65534);
  chownSync(ctx.state.pluginDir, 65534, 65534);
  const asAgent = async (): Promise<{ origin: string; drift: boolean; reason: string; backup: { sha256: string } | null }> => {
    const r = await runCli(['plugin', 'status', '--json', '--root', b.root, '--state-dir', path.join(dir, 'state')], { uid: 65534 });
    t.equal(r.code, 0, `status as nobody: ${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout) as { origin: string; drift: boolean; reason: string; backup: { sha256: string } | null };
  };
  const st = await asAgent();
  t.same({ origin: st.origin, drift: st.drift, backup: st.backup?.sha256 }, { origin: 'custom', drift: false, backup: before }, 'read from the view root published');

  // An install cut off after its journal was written: the agent reports it and leaves it alone.
  const record = JSON.parse(readFileSync(ctx.records.installedFile, 'utf8')) as InstalledRecord;
  await plantJournal(ctx, { op: 'restore', target: b.target, linkName: 'libnvinfer_plugin.so.7', backupSha: before, fromSha: record.sha256, startedAt: '2026-01-01T00:00:00.000Z' }, deadPid());
  const pending = await asAgent();
  t.equal(pending.drift, true);
  t.match(pending.reason, /interrupted plugin restore .* awaits recovery by root; `sudo jetson-agent plugin status` finishes or undoes it from the root-only records/);
  t.equal(sha(b.hostTarget), sha(good), 'the unprivileged status did not touch the library');
  t.ok(existsSync(ctx.records.journalFile), 'nor the journal');
  const recovered = await pluginStatus(ctx);
  t.same({ origin: recovered.origin, drift: recovered.drift }, { origin: 'system', drift: false }, 'root finishes the restore');
  t.equal(sha(b.hostTarget), before);
  const view = JSON.parse(readFileSync(ctx.state.viewFile, 'utf8')) as { journal: unknown; installed: unknown };
  t.same([view.journal, view.installed], [null, null], 'root published the recovered records');
  t.equal((await asAgent()).drift, false, 'and the agent sees them');
});

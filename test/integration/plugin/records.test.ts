import t from 'tap';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AgentError } from '../../../agent/src/core/errors.js';
import { silentLogger } from '../../../agent/src/core/log.js';
import { HostPaths } from '../../../agent/src/platform/paths.js';
import type { PluginContext } from '../../../agent/src/plugin/context.js';
import { pluginRecords } from '../../../agent/src/plugin/records.js';
import { restorePlugin } from '../../../agent/src/plugin/restore.js';
import { pluginStatePaths } from '../../../agent/src/plugin/state-paths.js';
import { pluginStatus } from '../../../agent/src/plugin/status.js';
import { installPlugin } from '../../../agent/src/plugin/swap.js';
import { ALL_CREATORS, GOOD_SYMBOLS, compileLib, makeBoardRoot, recordsDirOf, type BoardRoot } from '../../helpers/plugin-board.js';

/**
 * The root-only records (plugin.recordsDir) and what root refuses to act on: an unsafe
 * records or library directory, damaged records, a journal for another file, special mode
 * bits, and the one-time migration of an older release's records from the state dir.
 */
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
const mode = (p: string): number => statSync(p).mode & 0o7777;
const asRoot = { skip: process.getuid?.() !== 0 ? 'needs root (chown, root-owned directories)' : false };

function setup(test: { testdir: typeof t.testdir }): { b: BoardRoot; ctx: PluginContext; dir: string; good: string } {
  const dir = test.testdir({ root: {}, state: {}, cand: {} });
  const b = makeBoardRoot(path.join(dir, 'root'));
  const ctx: PluginContext = {
    paths: new HostPaths(b.root),
    state: pluginStatePaths(path.join(dir, 'state')),
    records: pluginRecords(recordsDirOf(b)),
    board: b.board,
    log: silentLogger,
    now: () => new Date('2026-01-01T00:00:00Z'),
  };
  const good = compileLib(path.join(dir, 'cand', 'libnvinfer_plugin.so.7.1.3'), { soname: 'libnvinfer_plugin.so.7', creators: ALL_CREATORS, symbols: GOOD_SYMBOLS, marker: 'oss' });
  return { b, ctx, dir, good };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof AgentError ? `${err.code}: ${err.message}` : `non-agent error: ${String(err)}`;
  }
}

t.test('an unsafe records directory is refused before anything is touched', async (t) => {
  const { b, ctx, dir, good } = setup(t);
  const before = sha(b.hostTarget);
  // A symlink in its place (to a directory someone else chose).
  mkdirSync(path.join(dir, 'elsewhere'));
  mkdirSync(path.dirname(ctx.records.dir), { recursive: true });
  symlinkSync(path.join(dir, 'elsewhere'), ctx.records.dir);
  t.match(await codeOf(installPlugin(ctx, { candidateFile: good, builtFor: null })), /^PLUGIN_PATH_UNSAFE: .*symbolic link or not a directory/);
  t.equal(sha(b.hostTarget), before, 'library untouched');
  rmSync(ctx.records.dir);
  // A parent anyone in the group may write: a name in it could be swapped.
  chmodSync(path.dirname(ctx.records.dir), 0o775);
  t.match(await codeOf(installPlugin(ctx, { candidateFile: good, builtFor: null })), /^PLUGIN_PATH_UNSAFE: .*var\/lib is writable by group or others \(mode 775\)/);
  chmodSync(path.dirname(ctx.records.dir), 0o755);
  t.equal((await installPlugin(ctx, { candidateFile: good, builtFor: null })).changed, true, 'works once the parent is fixed');
  t.equal(mode(ctx.records.dir), 0o700, 'created 0700');
  // Loosened later: tightened back (it is ours), never used loose.
  chmodSync(ctx.records.dir, 0o755);
  await pluginStatus(ctx, { recover: true });
  t.equal(mode(ctx.records.dir), 0o700, 'mode restored to 0700');
});

t.test('records owned by another user are refused', asRoot, async (t) => {
  const { b, ctx, good } = setup(t);
  mkdirSync(ctx.records.dir, { recursive: true, mode: 0o700 });
  chownSync(ctx.records.dir, 65534, 65534);
  t.match(await codeOf(installPlugin(ctx, { candidateFile: good, builtFor: null })), /^PLUGIN_PATH_UNSAFE: .*jetson-agent-root is owned by uid 65534/);
  chownSync(path.dirname(b.hostLibDir), 65534, 65534);
  chownSync(ctx.records.dir, 0, 0);
  t.match(await codeOf(installPlugin(ctx, { candidateFile: good, builtFor: null })), /^PLUGIN_PATH_UNSAFE: the library directory \/usr\/lib\/aarch64-linux-gnu cannot be written safely: .*\/usr\/lib is owned by uid 65534/);
});

t.test('damaged records stop the operation with PLUGIN_RECORDS_INVALID; a journal for another file with PLUGIN_RECOVERY_MISMATCH', async (t) => {
  const { b, ctx, good } = setup(t);
  await installPlugin(ctx, { candidateFile: good, builtFor: null });
  const custom = sha(b.hostTarget);
  const installed = readFileSync(ctx.records.installedFile, 'utf8');
  writeFileSync(ctx.records.installedFile, JSON.stringify({ ...JSON.parse(installed), library: 'not-absolute' }));
  t.match(await codeOf(restorePlugin(ctx)), /^PLUGIN_RECORDS_INVALID: The plugin installed record .* is damaged \(\/library: /);
  writeFileSync(ctx.records.installedFile, installed);
  const journal = { op: 'restore', target: '/etc/victim.conf', linkName: 'libnvinfer_plugin.so.7', backupSha: custom, fromSha: custom, startedAt: '2026-01-01T00:00:00.000Z' };
  writeFileSync(ctx.records.journalFile, JSON.stringify(journal));
  t.match(await codeOf(restorePlugin(ctx)), /^PLUGIN_RECOVERY_MISMATCH: The interrupted plugin restore .* was for \/etc\/victim\.conf, but the system library is now \/usr\/lib\/aarch64-linux-gnu\/libnvinfer_plugin\.so\.7\.1\.3/);
  writeFileSync(ctx.records.journalFile, JSON.stringify({ ...journal, extra: 1 }));
  t.match(await codeOf(pluginStatus(ctx, { recover: true })), /^PLUGIN_RECORDS_INVALID: The plugin journal/);
  t.equal(sha(b.hostTarget), custom, 'library untouched throughout');
  t.notOk(existsSync(path.join(b.root, 'etc', 'victim.conf')));
});

t.test('no setuid/setgid bit survives into the library, the divert copy or the backup', async (t) => {
  const { b, ctx, good } = setup(t);
  chmodSync(b.hostTarget, 0o6775);
  const before = sha(b.hostTarget);
  await installPlugin(ctx, { candidateFile: good, builtFor: null });
  t.equal(mode(b.hostTarget), 0o755, 'installed: the original permission bits without setuid/setgid and group write');
  t.equal(mode(path.join(b.hostLibDir, 'jetson-agent-diverted', 'libnvinfer_plugin.so.7.1.3')), 0o755, 'divert copy likewise');
  t.equal(mode(path.join(ctx.records.backupsDir, before, 'libnvinfer_plugin.so.7.1.3')), 0o600, 'backup: bytes only');
  await restorePlugin(ctx);
  t.equal(sha(b.hostTarget), before);
  t.equal(mode(b.hostTarget), 0o755, 'restored without them too');
  if (process.getuid?.() === 0) t.equal(statSync(b.hostTarget).uid, 0, 'root-owned');
});

/** Turn the records of a swap into what an older release left: in the state dir, manifest with mode/uid/gid. */
function toLegacy(ctx: PluginContext, original: string): void {
  const state = ctx.state.stateDir;
  mkdirSync(path.join(state, 'plugin'), { recursive: true });
  cpSync(ctx.records.installedFile, path.join(state, 'plugin', 'installed.json'));
  const from = path.join(ctx.records.backupsDir, original);
  const to = path.join(state, 'backups', original);
  mkdirSync(to, { recursive: true });
  const manifest = JSON.parse(readFileSync(path.join(from, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(to, 'manifest.json'), JSON.stringify({ ...manifest, mode: 0o644, uid: 0, gid: 0 }));
  cpSync(path.join(from, 'libnvinfer_plugin.so.7.1.3'), path.join(to, 'libnvinfer_plugin.so.7.1.3'));
  rmSync(ctx.records.dir, { recursive: true });
}

t.test('upgrade: an older release’s records are migrated once, after checking the backup against the divert copy', async (t) => {
  const { b, ctx, good } = setup(t);
  const original = sha(b.hostTarget);
  await installPlugin(ctx, { candidateFile: good, builtFor: { arch: '53', branch: 'release/7.1', tensorrt: '7.1.3' } });
  toLegacy(ctx, original);
  const st = await pluginStatus(ctx, { recover: true });
  t.same({ origin: st.origin, drift: st.drift, backup: st.backup?.sha256 }, { origin: 'custom', drift: false, backup: original }, 'the custom build is known again');
  t.equal(sha(path.join(ctx.records.backupsDir, original, 'libnvinfer_plugin.so.7.1.3')), original, 'backup now root-only');
  t.match(JSON.parse(readFileSync(ctx.records.migrationFile, 'utf8')), { outcome: /migrated the installed record and its backup \(checked against the divert copy/ });
  // Later plants in the state dir are never read again.
  writeFileSync(path.join(ctx.state.stateDir, 'plugin', 'journal.json'), '{"op":"restore","target":"/etc/victim.conf"}');
  t.equal((await restorePlugin(ctx)).changed, true, 'restore uses the migrated backup');
  t.equal(sha(b.hostTarget), original);
  t.notOk(existsSync(path.join(b.root, 'etc', 'victim.conf')));
});

t.test('upgrade: a planted legacy backup, a legacy journal or junk is refused with PLUGIN_LEGACY_RECORDS and changes nothing', async (t) => {
  const { b, ctx, good, dir } = setup(t);
  const original = sha(b.hostTarget);
  await installPlugin(ctx, { candidateFile: good, builtFor: null });
  toLegacy(ctx, original);
  // The agent account swaps the legacy backup for bytes of its own (and fixes the hashes).
  const evil = compileLib(path.join(dir, 'cand', 'evil.so'), { soname: 'libnvinfer_plugin.so.7', creators: ALL_CREATORS, symbols: GOOD_SYMBOLS, marker: 'evil' });
  const evilSha = sha(evil);
  const legacyDir = path.join(ctx.state.stateDir, 'backups');
  renameSync(path.join(legacyDir, original), path.join(legacyDir, evilSha));
  cpSync(evil, path.join(legacyDir, evilSha, 'libnvinfer_plugin.so.7.1.3'));
  const m = JSON.parse(readFileSync(path.join(legacyDir, evilSha, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(path.join(legacyDir, evilSha, 'manifest.json'), JSON.stringify({ ...m, sha256: evilSha }));
  const rec = JSON.parse(readFileSync(path.join(ctx.state.stateDir, 'plugin', 'installed.json'), 'utf8')) as { backup: object };
  writeFileSync(path.join(ctx.state.stateDir, 'plugin', 'installed.json'), JSON.stringify({ ...rec, backup: { dir: path.join(legacyDir, evilSha), sha256: evilSha } }));
  const custom = sha(b.hostTarget);
  const refused = await codeOf(restorePlugin(ctx));
  t.match(refused, /^PLUGIN_LEGACY_RECORDS: .*matches neither the divert copy in \/usr\/lib\/aarch64-linux-gnu nor the package's md5sums/);
  t.equal(sha(b.hostTarget), custom, 'the library was not touched');
  t.notOk(existsSync(ctx.records.migrationFile), 'not marked done: it is checked again next time');

  writeFileSync(path.join(ctx.state.stateDir, 'plugin', 'journal.json'), '{"op":"restore"}');
  t.match(await codeOf(pluginStatus(ctx, { recover: true })), /^PLUGIN_LEGACY_RECORDS: .*an interrupted operation is recorded in .*journal\.json/);
  rmSync(path.join(ctx.state.stateDir, 'plugin', 'journal.json'));
  writeFileSync(path.join(ctx.state.stateDir, 'plugin', 'installed.json'), '{"library": 1}');
  t.match(await codeOf(pluginStatus(ctx, { recover: true })), /^PLUGIN_LEGACY_RECORDS: .*is damaged/);
  t.equal(sha(b.hostTarget), custom);
  // The manual step of the hint: remove them, then it proceeds (and marks the migration done).
  rmSync(path.join(ctx.state.stateDir, 'plugin', 'installed.json'));
  rmSync(legacyDir, { recursive: true });
  t.equal((await pluginStatus(ctx, { recover: true })).library, b.target);
  t.match(JSON.parse(readFileSync(ctx.records.migrationFile, 'utf8')), { outcome: 'nothing to migrate' });
});

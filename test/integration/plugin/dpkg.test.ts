import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../../agent/src/core/log.js';
import { HostPaths } from '../../../agent/src/platform/paths.js';
import { installPlugin } from '../../../agent/src/plugin/swap.js';
import { restorePlugin } from '../../../agent/src/plugin/restore.js';
import { pluginStatus } from '../../../agent/src/plugin/status.js';
import { pluginStatePaths } from '../../../agent/src/plugin/state-paths.js';
import { pluginRecords } from '../../../agent/src/plugin/records.js';
import { ALL_CREATORS, GOOD_SYMBOLS, LIB_DIR, compileLib, makeBoardRoot, recordsDirOf } from '../../helpers/plugin-board.js';

// A REAL dpkg database in the test root: the plugin library is owned by a package installed
// with `dpkg --root`, and the "package upgrade" is a real `dpkg --root -i` of a newer .deb
// (docs/reference/library-swap.md "Upgrades and diversions" recipe). Needs root for dpkg --root; skipped otherwise.
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

function makeDeb(dir: string, version: string, lib: string): string {
  const pkg = path.join(dir, `pkg-${version}`);
  mkdirSync(path.join(pkg, 'DEBIAN'), { recursive: true });
  mkdirSync(path.join(pkg, LIB_DIR), { recursive: true });
  copyFileSync(lib, path.join(pkg, LIB_DIR, 'libnvinfer_plugin.so.7.1.3'));
  symlinkSync('libnvinfer_plugin.so.7.1.3', path.join(pkg, LIB_DIR, 'libnvinfer_plugin.so.7'));
  writeFileSync(
    path.join(pkg, 'DEBIAN', 'control'),
    `Package: libnvinfer-plugin7\nVersion: ${version}\nArchitecture: all\nMaintainer: test <t@example.com>\nDescription: test package shaped like TensorRT's plugin package\n`,
  );
  const deb = path.join(dir, `libnvinfer-plugin7_${version}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-b', pkg, deb], { stdio: 'ignore' });
  return deb;
}

t.test('package-owned library: ownership recorded, a real upgrade lands in the diversion, drift reported, restore brings the upgraded original', { skip: process.getuid?.() !== 0 ? 'dpkg --root needs root' : false }, async (t) => {
  const dir = t.testdir({ root: {}, state: {}, debs: {} });
  const b = makeBoardRoot(path.join(dir, 'root'));
  // Let the package own the library: remove the loose files, install the .deb with the same bytes.
  const stock = path.join(dir, 'debs', 'stock.so');
  copyFileSync(b.hostTarget, stock);
  rmSync(b.hostTarget);
  rmSync(path.join(b.hostLibDir, 'libnvinfer_plugin.so.7'));
  for (const d of ['info', 'updates', 'triggers']) mkdirSync(path.join(b.root, 'var/lib/dpkg', d), { recursive: true });
  writeFileSync(path.join(b.root, 'var/lib/dpkg/status'), '');
  writeFileSync(path.join(b.root, 'var/lib/dpkg/available'), '');
  execFileSync('dpkg', [`--root=${b.root}`, '-i', makeDeb(path.join(dir, 'debs'), '7.1.3-1+cuda10.2', stock)], { stdio: 'ignore' });

  const ctx = { paths: new HostPaths(b.root), state: pluginStatePaths(path.join(dir, 'state')), records: pluginRecords(recordsDirOf(b)), board: b.board, log: silentLogger, now: () => new Date() };
  const good = compileLib(path.join(dir, 'debs', 'oss.so'), { soname: 'libnvinfer_plugin.so.7', creators: ALL_CREATORS, symbols: GOOD_SYMBOLS, marker: 'oss' });
  await installPlugin(ctx, { candidateFile: good, builtFor: null });
  const manifest = JSON.parse(readFileSync(path.join(ctx.records.backupsDir, sha(stock), 'manifest.json'), 'utf8')) as { package: unknown };
  t.same(manifest.package, { name: 'libnvinfer-plugin7', version: '7.1.3-1+cuda10.2' }, 'dpkg -S owner and version in the backup manifest');
  const listed = execFileSync('dpkg-divert', ['--root', b.root, '--listpackage', b.target], { encoding: 'utf8' }).trim();
  t.equal(listed, 'LOCAL', 'local diversion registered');

  // A real upgrade with the same file name.
  const upgraded = compileLib(path.join(dir, 'debs', 'stock2.so'), { soname: 'libnvinfer_plugin.so.7', creators: ['BatchedNMS_TRT'], symbols: ['initLibNvInferPlugins'], marker: 'stock-2' });
  execFileSync('dpkg', [`--root=${b.root}`, '-i', makeDeb(path.join(dir, 'debs'), '7.1.3-2+cuda10.2', upgraded)], { stdio: 'ignore' });
  t.equal(sha(b.hostTarget), sha(good), 'the diversion kept the custom build in place');
  t.equal(sha(path.join(b.hostLibDir, 'jetson-agent-diverted', 'libnvinfer_plugin.so.7.1.3')), sha(upgraded), 'the new original went to the divert path');
  const st = await pluginStatus(ctx);
  t.equal(st.drift, true);
  t.equal(st.origin, 'custom');
  t.match(st.reason, /libnvinfer-plugin7 changed from 7\.1\.3-1\+cuda10\.2 to 7\.1\.3-2\+cuda10\.2 since the swap/);

  const r = await restorePlugin(ctx);
  t.equal(r.sha256, sha(upgraded), 'restore puts back the package’s current file, not the older backup');
  t.equal(sha(b.hostTarget), sha(upgraded));
  t.equal(execFileSync('dpkg-divert', ['--root', b.root, '--listpackage', b.target], { encoding: 'utf8' }).trim(), '', 'no diversion left');
  const st2 = await pluginStatus(ctx);
  t.same({ origin: st2.origin, drift: st2.drift }, { origin: 'system', drift: false });
});

import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadCheck } from '../../../agent/src/platform/library.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { bunExecutable, pinnedBunVersion } from '../../helpers/runtime.js';

/**
 * The differences between Node and the pinned Bun that agent/src/platform/ works around
 * (docs/architecture.md "Runtimes"), each shown on the real runtimes: when a Bun upgrade
 * removes one, its test here fails and the workaround can go.
 */
const bun = bunExecutable();

function libs(dir: string): { good: string; unresolved: string } {
  writeFileSync(path.join(dir, 'good.c'), 'int good(void) { return 1; }\n');
  // Calls a function no library defines: with RTLD_NOW the loader must refuse it.
  writeFileSync(path.join(dir, 'unresolved.c'), 'void nowhere(void);\nint uses(void) { nowhere(); return 1; }\n');
  const good = path.join(dir, 'libgood.so');
  const unresolved = path.join(dir, 'libunresolved.so');
  execFileSync('cc', ['-shared', '-fPIC', '-o', good, path.join(dir, 'good.c')]);
  execFileSync('cc', ['-shared', '-fPIC', '-o', unresolved, path.join(dir, 'unresolved.c')]);
  return { good, unresolved };
}

const DLOPEN = 'const os = require("node:os"); try { process.dlopen({ exports: {} }, process.argv[1], os.constants.dlopen.RTLD_NOW); console.log("no error"); } catch (e) { console.log(e.message); }';
const onRuntime = (exe: string, script: string, ...args: string[]): string => {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return spawnSync(exe, ['-e', script, ...args], { encoding: 'utf8', env }).stdout.trim();
};

t.test('Bun reports a Node.js version in process.version: runtimeInfo reads process.versions.bun', async (t) => {
  if (!bun) return t.fail('no pinned Bun in node_modules (npm ci installs it)');
  const out = JSON.parse(onRuntime(bun, 'console.log(JSON.stringify({ version: process.version, bun: process.versions.bun }))')) as { version: string; bun: string };
  t.match(out.version, /^v\d+\.\d+\.\d+$/, `process.version is a Node.js version (${out.version})`);
  t.equal(out.bun, pinnedBunVersion());
});

t.test('Bun\'s process.dlopen ignores RTLD_NOW, so the plugin load check runs in python3 under Bun', async (t) => {
  if (!bun) return t.fail('no pinned Bun in node_modules (npm ci installs it)');
  const { good, unresolved } = libs(t.testdir());
  t.match(onRuntime(process.execPath, DLOPEN, unresolved), /undefined symbol: nowhere/, 'Node: RTLD_NOW refuses the unresolved symbol');
  t.match(onRuntime(bun, DLOPEN, unresolved), /napi_register_module_v1/, 'Bun: the library loads (lazily) and only the missing addon entry is reported');

  // The workaround, called here under Node with the Bun path forced, then for real under Bun.
  t.same(await loadCheck(good, 30000, 'bun'), { ok: true, message: 'loaded' });
  const refused = await loadCheck(unresolved, 30000, 'bun');
  t.equal(refused.ok, false);
  t.match(refused.message, /undefined symbol: nowhere/);
  t.match(await loadCheck(unresolved, 30000, 'node'), { ok: false, message: /undefined symbol: nowhere/ }, 'the Node path refuses it as well');
  const script = `const { loadCheck } = await import(${JSON.stringify(path.join(REPO_ROOT, 'agent', 'dist', 'platform', 'library.js'))}); console.log(JSON.stringify([await loadCheck(process.argv[1]), await loadCheck(process.argv[2])]));`;
  const [okGood, okBad] = JSON.parse(onRuntime(bun, script, good, unresolved)) as { ok: boolean; message: string }[];
  t.equal(okGood?.ok, true, 'the built agent under Bun loads a good library');
  t.equal(okBad?.ok, false, 'and refuses one with an unresolved symbol');
  t.match(okBad?.message, /undefined symbol: nowhere/);
});

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { compareVersions } from '../../../agent/src/plugin/elf.js';
import { REPO_ROOT } from '../../helpers/cli.js';

/**
 * scripts/release-glibc.mjs, which scripts/make-release.mjs runs on the staged linux-arm64
 * tree before it writes the tarball: real shared libraries built by this machine's cc, one
 * needing only old symbol versions (puts: GLIBC_2.2.5 on x86-64) and one needing a version
 * above JetPack 4's 2.27 (pthread_create moved into libc as GLIBC_2.34 in glibc 2.34).
 * readelf -V is the reference for what each needs.
 */
interface Needs {
  rows: { file: string; glibc: string | null }[];
  problems: string[];
}
const mod = (await import(path.join(REPO_ROOT, 'scripts', 'release-glibc.mjs'))) as { glibcNeeds: (dir: string, max?: string) => Needs; JETPACK4_GLIBC: string };

function readelfHighest(file: string): string | null {
  const out = execFileSync('readelf', ['-V', '--wide', file], { encoding: 'utf8' });
  const v = [...out.matchAll(/Name: GLIBC_([\d.]+)/g)].map((m) => m[1] ?? '').sort(compareVersions);
  return v.pop() ?? null;
}

// pthread_create is GLIBC_2.34 only where libpthread merged into libc (glibc >= 2.34).
const hostGlibc = /glibc ([\d.]+)/.exec(execFileSync('getconf', ['GNU_LIBC_VERSION'], { encoding: 'utf8' }))?.[1] ?? '0';
const skip = compareVersions(hostGlibc, '2.34') < 0 ? `this machine has glibc ${hostGlibc}: the test needs >= 2.34 (Debian bookworm, as CI) to link a GLIBC_2.34 need` : false;

t.test('a tree with a library that needs more than GLIBC 2.27 is reported, file by file', { skip }, async (t) => {
  const dir = t.testdir({ 'old.c': '#include <stdio.h>\nint hi(void) { return puts("hi"); }\n', 'new.c': '#include <pthread.h>\nstatic void *f(void *a) { return a; }\nint go(void) { pthread_t th; return pthread_create(&th, 0, f, 0); }\n' });
  const tree = path.join(dir, 'tree');
  mkdirSync(path.join(tree, 'node_modules', 'pkg', 'lib'), { recursive: true });
  const oldLib = path.join(tree, 'node_modules', 'pkg', 'lib', 'libold.so');
  const newLib = path.join(tree, 'node_modules', 'pkg', 'lib', 'libnew.so.1');
  execFileSync('cc', ['-shared', '-fPIC', '-o', oldLib, path.join(dir, 'old.c')]);
  execFileSync('cc', ['-shared', '-fPIC', '-o', newLib, path.join(dir, 'new.c'), '-lpthread']);
  // Not ELF: skipped, not an error.
  writeFileSync(path.join(tree, 'node_modules', 'pkg', 'index.js'), 'module.exports = 1;\n'.repeat(8));
  const newNeeds = readelfHighest(newLib);
  t.ok(newNeeds !== null && compareVersions(newNeeds, '2.27') > 0, `readelf: libnew needs GLIBC_${newNeeds}, above 2.27`);

  const { rows, problems } = mod.glibcNeeds(tree);
  t.equal(mod.JETPACK4_GLIBC, '2.27');
  t.same(
    rows.sort((a, b) => a.file.localeCompare(b.file)),
    [
      { file: 'node_modules/pkg/lib/libnew.so.1', glibc: newNeeds },
      { file: 'node_modules/pkg/lib/libold.so', glibc: readelfHighest(oldLib) },
    ],
    'every ELF file, with the highest GLIBC version readelf -V shows',
  );
  t.same(problems, [`node_modules/pkg/lib/libnew.so.1 needs GLIBC_${newNeeds} (more than 2.27)`]);
  t.same(mod.glibcNeeds(tree, newNeeds ?? undefined).problems, [], 'nothing to report when the bound is what it needs');
});

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkLibrary, sonameMajor } from '../../../agent/src/plugin/checks.js';
import { ElfError, compareVersions, containsCString, highestGlibc, hostMachine, parseElf } from '../../../agent/src/plugin/elf.js';
import { ALL_CREATORS, GOOD_SYMBOLS, compileLib } from '../../helpers/plugin-board.js';
import { REPO_ROOT } from '../../helpers/cli.js';

// Real ELF files compiled here and cross-checked against binutils' readelf.
t.test('parseElf agrees with readelf on a real shared library', async (t) => {
  const dir = t.testdir();
  const lib = compileLib(path.join(dir, 'libnvinfer_plugin.so.8.2.1'), { soname: 'libnvinfer_plugin.so.8', creators: ALL_CREATORS, symbols: GOOD_SYMBOLS });
  const elf = parseElf(readFileSync(lib));
  const dyn = execFileSync('readelf', ['-d', lib], { encoding: 'utf8' });
  t.equal(elf.soname, /Library soname: \[(.+?)\]/.exec(dyn)?.[1]);
  t.same([...elf.needed].sort(), [...dyn.matchAll(/Shared library: \[(.+?)\]/g)].map((m) => m[1]).sort(), 'NEEDED entries');
  t.equal(elf.machine, hostMachine(), 'compiled for this host');
  t.equal(elf.type, 3, 'ET_DYN');
  const syms = execFileSync('nm', ['-D', '--defined-only', lib], { encoding: 'utf8' });
  for (const s of GOOD_SYMBOLS) {
    t.ok(elf.definedSymbols.has(s), `${s} defined`);
    t.match(syms, new RegExp(` ${s}$`, 'm'), `nm agrees on ${s}`);
  }
  t.notOk(elf.definedSymbols.has('printf'), 'undefined imports are not "defined"');
  t.ok(containsCString(readFileSync(lib), 'BatchTilePlugin_TRT'));
  t.notOk(containsCString(readFileSync(lib), 'Proposal_TRT'), 'a creator the library does not have is not found');
  t.notOk(containsCString(readFileSync(lib), 'BatchTilePlugin'), 'a prefix is not a match: the NUL terminator is required');
});

t.test('checkLibrary lists every problem at once', async (t) => {
  const dir = t.testdir();
  const lib = compileLib(path.join(dir, 'bad.so'), { soname: 'libnvinfer_plugin.so.8', creators: ['BatchedNMS_TRT'], symbols: [] });
  const buf = readFileSync(lib);
  buf.writeUInt16LE(183, 18);
  writeFileSync(lib, buf);
  const c = checkLibrary(readFileSync(lib), { machine: 62, soname: 'libnvinfer_plugin.so.7' });
  t.same(c.problems, [
    'built for AArch64, but the system library is x86-64',
    'SONAME is libnvinfer_plugin.so.8, expected libnvinfer_plugin.so.7 (SONAME major differs)',
    'missing plugin creators: BatchTilePlugin_TRT, ResizeNearest_TRT',
    'missing exported symbols: initLibNvInferPlugins',
  ]);
  t.same(checkLibrary(Buffer.from('hello'), { machine: 62, soname: null }).problems, ['not an ELF shared library: not an ELF file (bad magic)']);
  t.match(checkLibrary(buf.subarray(0, 40), { machine: 62, soname: null }).problems[0] ?? '', /truncated/);
  t.throws(() => parseElf(Buffer.from('\x7fELF\x09\x01' + 'x'.repeat(60), 'latin1')), { name: 'Error', message: 'unknown ELF class 9' });
  t.ok(new ElfError('x') instanceof Error);
  t.equal(sonameMajor('libnvinfer_plugin.so.10'), '10');
  t.equal(sonameMajor('libnvinfer_plugin.so.7.0.0'), '7', 'release/7.0 SONAME .so.7.0.0 has major 7');
});

/** readelf -V's "Version needs" part as { file: [versions] }, to cross-check the reader. */
function readelfNeeds(file: string): Record<string, string[]> {
  const out = execFileSync('readelf', ['-V', '-W', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const part = out.slice(out.indexOf("Version needs section '.gnu.version_r'"));
  const needs: Record<string, string[]> = {};
  let current: string[] = [];
  for (const line of part.split('\n')) {
    const f = /File: (\S+)/.exec(line);
    if (f?.[1]) needs[f[1]] = current = [];
    const n = /Name: (\S+)/.exec(line);
    if (n?.[1]) current.push(n[1]);
  }
  return needs;
}

t.test('version needs (.gnu.version_r) agree with readelf -V, across architectures', async (t) => {
  const dir = t.testdir();
  const compiled = compileLib(path.join(dir, 'libv.so'), { soname: 'libv.so', creators: [], symbols: GOOD_SYMBOLS });
  // Real binaries the project installs: an aarch64 ONNX Runtime on this x86 machine, x86 sharp.
  const real = [
    'node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/libonnxruntime.so.1',
    'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
  ].map((p) => path.join(REPO_ROOT, p));
  for (const file of [compiled, ...real]) {
    const elf = parseElf(readFileSync(file));
    const got = Object.fromEntries((elf.versionNeeds ?? []).map((n) => [n.file, [...n.versions]]));
    t.same(got, readelfNeeds(file), `${path.basename(file)}: same needs as readelf`);
    const max = Object.values(got)
      .flat()
      .map((v) => /^GLIBC_([\d.]+)$/.exec(v)?.[1])
      .filter((v): v is string => v !== undefined)
      .sort(compareVersions)
      .pop();
    t.equal(highestGlibc(elf), max ?? null, `${path.basename(file)}: highest GLIBC_ ${String(max)}`);
  }
  t.equal(parseElf(readFileSync(real[0] ?? '')).machine, 183, 'the ONNX Runtime library read here is AArch64');
});

t.test('highestGlibc compares numerically; files without section headers have unknown needs', async (t) => {
  t.equal(highestGlibc({ versionNeeds: [{ file: 'libc.so.6', versions: ['GLIBC_2.3.4', 'GLIBC_2.17', 'GLIBC_2.2.5'] }] }), '2.17');
  t.equal(highestGlibc({ versionNeeds: [{ file: 'libstdc++.so.6', versions: ['GLIBCXX_3.4.29', 'CXXABI_1.3'] }] }), null, 'GLIBCXX is not glibc');
  t.equal(highestGlibc({ versionNeeds: [{ file: 'libm.so.6', versions: ['GLIBC_2.27'] }, { file: 'libc.so.6', versions: ['GLIBC_2.25'] }] }), '2.27', 'libm counts');
  t.equal(compareVersions('2.27', '2.28'), -1);
  t.equal(compareVersions('2.28', '2.28.0'), 0);
  const dir = t.testdir();
  const lib = readFileSync(compileLib(path.join(dir, 'l.so'), { soname: 'l.so', creators: [], symbols: [] }));
  // e_shoff = 0, e_shnum = 0: what `sstrip` leaves.
  lib.writeBigUInt64LE(0n, 0x28);
  lib.writeUInt16LE(0, 0x3c);
  t.equal(parseElf(lib).versionNeeds, null);
});

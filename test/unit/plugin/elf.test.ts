import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkLibrary, sonameMajor } from '../../../agent/src/plugin/checks.js';
import { ElfError, containsCString, hostMachine, parseElf } from '../../../agent/src/plugin/elf.js';
import { ALL_CREATORS, GOOD_SYMBOLS, compileLib } from '../../helpers/plugin-board.js';

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

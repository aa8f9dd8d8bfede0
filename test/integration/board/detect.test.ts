import t from 'tap';
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { detectBoard } from '../../../agent/src/board/detect.js';
import type { BoardInfo } from '../../../agent/src/core/contracts/board.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import { HostPaths } from '../../../agent/src/platform/paths.js';
import { REPO_ROOT } from '../../helpers/cli.js';

const BOARDS = path.join(REPO_ROOT, 'test', 'fixtures', 'boards');
const FIXTURES = readdirSync(BOARDS).filter((d) => existsSync(path.join(BOARDS, d, 'expected.json')));

const detectIn = (root: string): Promise<BoardInfo> => detectBoard(new HostPaths(root), { env: {} });
const json = (b: BoardInfo): unknown => JSON.parse(JSON.stringify(b));
const compat = (...entries: string[]) => ({ proc: { 'device-tree': { compatible: Buffer.from(entries.map((e) => e + '\0').join('')) } } });

t.test('every fixture board is detected exactly as in its expected.json', async (t) => {
  t.same(FIXTURES.sort(), ['agx-orin-jp512', 'nano-jp44', 'orin-nano-jp62', 'tx2-jp461', 'x86-debian', 'xavier-nx-jp46']);
  for (const id of FIXTURES) {
    const expected = JSON.parse(readFileSync(path.join(BOARDS, id, 'expected.json'), 'utf8')) as BoardInfo;
    t.same(json(await detectIn(path.join(BOARDS, id))), expected, id);
  }
});

t.test('the values a plugin build needs, per board', async (t) => {
  const nano = await detectIn(path.join(BOARDS, 'nano-jp44'));
  t.match(nano, {
    isJetson: true,
    soc: 'tegra210',
    cudaArch: 53,
    module: 'p3448-0000',
    l4t: '32.4.3',
    jetpack: '4.4',
    tensorrt: '7.1.3',
    trtOssBranch: 'release/7.1',
    cuda: '10.2.89',
    cmake: { version: '3.10.2', path: '/usr/bin/cmake' },
    pluginLibrary: '/usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so.7.1.3',
    trtLibDir: '/usr/lib/aarch64-linux-gnu',
    pluginPackage: { name: 'libnvinfer-plugin7', version: '7.1.3-1+cuda10.2' },
  });
  t.notMatch(nano.pluginLibrary ?? '', BOARDS, 'board-absolute: no --root prefix');
  t.ok(nano.warnings.some((w) => /cmake 3\.10\.2 is older than 3\.13/.test(w)), 'JP4 cmake flagged as too old for the OSS build');
  const orin = await detectIn(path.join(BOARDS, 'orin-nano-jp62'));
  t.match(orin, { l4t: '36.4.3', jetpack: '6.2', tensorrt: '10.3.0', trtOssBranch: 'release/10.3', cudaArch: 87, cudnn: '9.3.0' });
  t.equal(orin.model, 'NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super', 'model without trailing NUL');
});

t.test('a tree with only a compatible file still gives soc and cudaArch', async (t) => {
  const b = await detectIn(t.testdir(compat('nvidia,p3449-0000+p3668-0001', 'nvidia,tegra194')));
  t.match(b, { isJetson: true, soc: 'tegra194', cudaArch: 72, module: 'p3668-0001', l4t: null, tensorrt: null, cmake: null, pluginLibrary: null });
  t.equal(b.sources.soc, '/proc/device-tree/compatible');
  t.same(b.warnings, []);
});

t.test('SoC precedence: compatible, then tegra_chip_id, then dtsfilename; never the model', async (t) => {
  // t.testdir() is one directory per test: each case is a sub-tree of it.
  const dir = t.testdir({
    chipOnly: { sys: { module: { tegra_fuse: { parameters: { tegra_chip_id: '24\n' } } } } },
    dtsOnly: { proc: { 'device-tree': { 'nvidia,dtsfilename': 'x/t210/porg/kernel-dts/tegra210-p3448-0000-p3449-0000-b00.dts\0' } } },
    conflict: { ...compat('nvidia,tegra234'), sys: { module: { tegra_fuse: { parameters: { tegra_chip_id: '33\n' } } } } },
    modelOnly: { proc: { 'device-tree': { model: 'NVIDIA Jetson Nano Developer Kit\0' } } },
  });
  const chipOnly = await detectIn(path.join(dir, 'chipOnly'));
  t.match(chipOnly, { soc: 'tegra186', cudaArch: 62, chipId: 24 });
  const dtsOnly = await detectIn(path.join(dir, 'dtsOnly'));
  t.match(dtsOnly, { soc: 'tegra210', module: 'p3448-0000', cudaArch: 53 });
  const conflict = await detectIn(path.join(dir, 'conflict'));
  t.equal(conflict.soc, 'tegra234', 'compatible wins over chip id');
  t.ok(conflict.warnings.some((w) => /tegra_chip_id says tegra210/.test(w)), 'the disagreement is reported');
  const modelOnly = await detectIn(path.join(dir, 'modelOnly'));
  t.match(modelOnly, { isJetson: false, soc: null, model: 'NVIDIA Jetson Nano Developer Kit' }, 'model text alone never gives a SoC');
});

t.test('a Jetson with an unknown SoC is BOARD_UNSUPPORTED naming what was found', async (t) => {
  const dir = t.testdir({
    tk1: compat('nvidia,jetson-tk1', 'nvidia,tegra124'),
    releaseOnly: {
      etc: { nv_tegra_release: '# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64, DATE: Sat Feb 19 17:05:08 UTC 2022\n' },
    },
  });
  await t.rejects(detectIn(path.join(dir, 'tk1')), { code: 'BOARD_UNSUPPORTED', message: /nvidia,tegra124/ });
  await t.rejects(detectIn(path.join(dir, 'tk1')), AgentError);
  await t.rejects(detectIn(path.join(dir, 'releaseOnly')), { code: 'BOARD_UNSUPPORTED', message: /no DT compatible, L4T 32\.7\.1/ });
});

t.test('a non-Jetson host is a normal result; an empty tree gives nulls, not an error', async (t) => {
  const x86 = await detectIn(path.join(BOARDS, 'x86-debian'));
  t.match(x86, { isJetson: false, soc: null, tensorrt: null, os: 'Debian GNU/Linux 12 (bookworm)', cmake: { version: '3.25.1' } });
  const dir = t.testdir({ rpi: compat('raspberrypi,4-model-b', 'brcm,bcm2711'), empty: {} });
  const rpi = await detectIn(path.join(dir, 'rpi'));
  t.equal(rpi.isJetson, false);
  const empty = await detectIn(path.join(dir, 'empty'));
  t.match(empty, { isJetson: false, model: null, l4t: null, tensorrt: null, cmake: null, pluginLibrary: null });
  t.same(empty.warnings, []);
});

t.test('malformed and unreadable files give partial results with warnings', async (t) => {
  const dir = t.testdir({
    isDir: { ...compat('nvidia,tegra210'), etc: { nv_tegra_release: {} } },
    bad: {
      ...compat('nvidia,p3768-0000+p3767-0005', 'nvidia,tegra234'),
      etc: { nv_tegra_release: '# R36 (release), REVISION: four, GCID: 1\n' },
      var: { lib: { dpkg: { status: '' } } },
      usr: {
        include: { 'aarch64-linux-gnu': { 'NvInferVersion.h': 'garbage' } },
        local: { cuda: { 'version.json': '{ not json' } },
      },
    },
  });
  const b = await detectIn(path.join(dir, 'bad'));
  t.match(b, { soc: 'tegra234', l4t: null, tensorrt: null, cuda: null });
  t.match(b.warnings.join('\n'), /nv_tegra_release has R36 but an unknown REVISION format "four"/);
  t.match(b.warnings.join('\n'), /NvInferVersion\.h has no resolvable/);
  t.match(b.warnings.join('\n'), /version\.json is not valid JSON/);
  const isDir = await detectIn(path.join(dir, 'isDir'));
  t.equal(isDir.soc, 'tegra210');
  t.match(isDir.warnings.join('\n'), /\/etc\/nv_tegra_release: could not read \(EISDIR\)/);
});

t.test('plugin library: links resolve inside --root; dangling and missing links are reported', async (t) => {
  const lib = (files: NonNullable<Parameters<typeof t.testdir>[0]>) => ({ usr: { lib: { 'aarch64-linux-gnu': files } } });
  const dir = t.testdir({
    abs: {
      ...compat('nvidia,tegra234'),
      ...lib({
        'libnvinfer_plugin.so.8.5.2': 'x',
        'libnvinfer_plugin.so.8': t.fixture('symlink', '/usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so.8.5.2'),
      }),
    },
    dangling: { ...compat('nvidia,tegra234'), ...lib({ 'libnvinfer_plugin.so.8': t.fixture('symlink', 'libnvinfer_plugin.so.8.9.9') }) },
    noLink: {
      ...compat('nvidia,tegra210'),
      var: { lib: { dpkg: { status: 'Package: libnvinfer7\nStatus: install ok installed\nVersion: 7.1.3-1+cuda10.2\n' } } },
      ...lib({ 'libnvinfer_plugin.so.7.1.3': 'x', 'libnvinfer.so.7.1.3': 'x' }),
    },
  });
  const a = await detectIn(path.join(dir, 'abs'));
  t.equal(a.pluginLibrary, '/usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so.8.5.2', 'absolute link target taken inside the root');
  t.equal(a.trtLibDir, '/usr/lib/aarch64-linux-gnu');
  const dangling = await detectIn(path.join(dir, 'dangling'));
  t.equal(dangling.pluginLibrary, null);
  t.match(dangling.warnings.join('\n'), /libnvinfer_plugin\.so\.8 is a dangling link/);
  const noLink = await detectIn(path.join(dir, 'noLink'));
  t.equal(noLink.pluginLibrary, '/usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so.7.1.3');
  t.match(noLink.warnings.join('\n'), /libnvinfer_plugin\.so\.7 is missing; using libnvinfer_plugin\.so\.7\.1\.3/);
});

t.test('TensorRT falls back to the header, then to library file names', async (t) => {
  const enterprise =
    '#define TRT_MAJOR_ENTERPRISE 10\n#define TRT_MINOR_ENTERPRISE 13\n#define TRT_PATCH_ENTERPRISE 0\n' +
    '#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE\n#define NV_TENSORRT_MINOR TRT_MINOR_ENTERPRISE\n#define NV_TENSORRT_PATCH TRT_PATCH_ENTERPRISE\n';
  const dir = t.testdir({
    header: { ...compat('nvidia,tegra264'), usr: { include: { 'aarch64-linux-gnu': { 'NvInferVersion.h': enterprise } } } },
    libs: {
      ...compat('nvidia,tegra194'),
      usr: {
        lib: {
          'aarch64-linux-gnu': {
            'libnvinfer.so.8.0.1': 'x',
            'libnvinfer_plugin.so.8.0.1': 'x',
            'libnvinfer_plugin.so.8': t.fixture('symlink', 'libnvinfer_plugin.so.8.0.1'),
          },
        },
      },
    },
  });
  const h = await detectIn(path.join(dir, 'header'));
  t.match(h, { tensorrt: '10.13.0', trtOssBranch: 'release/10.13', cmakeMinimum: '3.13', cudaArch: 110 });
  t.equal(h.sources.tensorrt, '/usr/include/aarch64-linux-gnu/NvInferVersion.h');
  const libs = await detectIn(path.join(dir, 'libs'));
  t.match(libs, { tensorrt: '8.0.1', trtOssBranch: 'release/8.0', pluginLibrary: '/usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so.8.0.1' });
  t.equal(libs.sources.tensorrt, '/usr/lib/aarch64-linux-gnu/libnvinfer.so.8.0.1');
});

t.test('cmake: a --root tree is never executed; the real root runs cmake --version and takes the newest', async (t) => {
  const dir = t.testdir({
    root: { usr: { bin: { cmake: '' }, share: { 'cmake-3.22': {} } } },
    home: { install: { bin: { cmake: "#!/bin/sh\necho 'cmake version 99.1.2'\n" } } },
  });
  const root = path.join(dir, 'root');
  const marker = path.join(dir, 'cmake-ran');
  writeFileSync(path.join(root, 'usr', 'bin', 'cmake'), `#!/bin/sh\necho ran > '${marker}'\necho 'cmake version 9.9.9'\n`);
  chmodSync(path.join(root, 'usr', 'bin', 'cmake'), 0o755);
  const b = await detectBoard(new HostPaths(root), { env: { PATH: path.join(root, 'usr', 'bin'), HOME: root } });
  t.same(b.cmake, { version: '3.22', path: '/usr/bin/cmake' }, 'from the usr/share/cmake-X.Y directory name');
  t.notOk(existsSync(marker), 'the cmake inside the tree was not run');

  const home = path.join(dir, 'home');
  const homeCmake = path.join(home, 'install', 'bin', 'cmake');
  chmodSync(homeCmake, 0o755);
  const real = await detectBoard(new HostPaths('/'), { env: { PATH: process.env.PATH ?? '', HOME: home } }).catch((err: unknown) => err);
  if (real instanceof AgentError) {
    t.equal(real.code, 'BOARD_UNSUPPORTED', 'this machine is an unsupported Jetson; nothing else to check');
    return;
  }
  t.same((real as BoardInfo).cmake, { version: '99.1.2', path: homeCmake }, '$HOME/install/bin/cmake is the newest and is reported');
  t.equal((real as BoardInfo).sources.cmake, `${homeCmake} --version`);
});

t.test('empty files are reported, and the next source still answers', async (t) => {
  const dir = t.testdir({
    empty: {
      proc: { 'device-tree': { compatible: '', model: '' } },
      sys: { module: { tegra_fuse: { parameters: { tegra_chip_id: '35\n' } } } },
      var: { lib: { dpkg: { status: 'Package: libnvinfer10\nStatus: install ok installed\nVersion: 10.3.0.30-1+cuda12.5\n\nPackage: libnvinfer-plugin8\nStatus: install ok installed\nVersion: 8.5.2-1+cuda11.4\n' } } },
    },
  });
  const b = await detectIn(path.join(dir, 'empty'));
  t.match(b, { soc: 'tegra234', cudaArch: 87, model: null, tensorrt: '10.3.0', pluginPackage: { name: 'libnvinfer-plugin8' } });
  t.equal(b.sources.soc, '/sys/module/tegra_fuse/parameters/tegra_chip_id');
  const warnings = b.warnings.join('\n');
  t.match(warnings, /compatible: compatible is empty/);
  t.match(warnings, /model: model is empty/);
  t.match(warnings, /plugin package libnvinfer-plugin8 does not match TensorRT 10\.3\.0/);
});

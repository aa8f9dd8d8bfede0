import t from 'tap';
import {
  cmakeVersionFromShareDir,
  dpkgStack,
  parseChipId,
  cmakeVersionFact,
  parseCompatible,
  parseCudaVersionJson,
  parseCudaVersionTxt,
  parseCudnnHeader,
  parseDpkgStatus,
  parseDtsFilename,
  parseModel,
  nvInferVersionFact,
  parseNvTegraRelease,
  parseOsRelease,
  sonameMajor,
  upstreamVersion,
  versionFromLibName,
} from '../../../agent/src/board/parse.js';

// Sample strings: docs/reference/jetson-boards.md "Detection sources", "nv_tegra_release" and "Detecting TensorRT, CUDA and cuDNN" (verbatim from the public sources named there).

t.test('compatible: NUL-separated bytes → SoC token and module part number', async (t) => {
  const orinNano = Buffer.from(
    'nvidia,p3768-0000+p3767-0003\0nvidia,p3768-0000+p3767-0005\0nvidia,p3767-0003\0nvidia,p3767-0005\0nvidia,tegra234\0nvidia,tegra23x\0',
  );
  const r = parseCompatible(orinNano);
  t.equal(r.warning, undefined);
  t.equal(r.value.socToken, 'tegra234', 'first nvidia,tegra entry, not the tegra23x alias');
  t.equal(r.value.module, 'p3767-0003', 'module from the most specific carrier+module entry');
  t.equal(r.value.entries.length, 6);
  t.ok(r.value.tegra);

  const thor = parseCompatible(Buffer.from('nvidia,p4071-0000+p3834-0008\0nvidia,p3834-0008\0nvidia,tegra264\0'));
  t.equal(thor.value.socToken, 'tegra264');
  t.equal(thor.value.module, 'p3834-0008');

  const tx1 = parseCompatible(Buffer.from('nvidia,jetson-cv\0nvidia,tegra210\0'));
  t.equal(tx1.value.socToken, 'tegra210');
  t.equal(tx1.value.module, null, 'no part number in the TX1 entries');
});

t.test('compatible: a lone devkit id is not taken for the module; tolerates missing NUL and spaces', async (t) => {
  const nano = parseCompatible('nvidia,p3450-0000\0nvidia,jetson-nano\0nvidia,tegra210\0');
  t.equal(nano.value.module, null, 'p3450-0000 is the Nano devkit, not the p3448 module');
  const lone = parseCompatible('nvidia,p3701-0005\0nvidia,tegra234');
  t.equal(lone.value.module, 'p3701-0005', 'a known module id alone is accepted');
  t.equal(lone.value.socToken, 'tegra234', 'last entry without trailing NUL still read');
  const spaced = parseCompatible('nvidia,p3449-0000+p3668-0001 nvidia,tegra194');
  t.equal(spaced.value.socToken, 'tegra194');
  t.match(spaced.warning, /whitespace, not NUL/);
  const empty = parseCompatible(Buffer.alloc(0));
  t.same(empty.value.entries, []);
  t.equal(empty.value.socToken, null);
  t.match(empty.warning, /empty/);
  const rpi = parseCompatible('raspberrypi,4-model-b\0brcm,bcm2711\0');
  t.equal(rpi.value.tegra, false);
  t.equal(rpi.value.socToken, null);
});

t.test('model: NUL-terminated, also without the NUL; empty → null with a warning', async (t) => {
  t.same(parseModel(Buffer.from('NVIDIA Jetson Nano Developer Kit\0')), { value: 'NVIDIA Jetson Nano Developer Kit' });
  t.equal(parseModel('Jetson AGX Orin').value, 'Jetson AGX Orin');
  const empty = parseModel(Buffer.from('\0'));
  t.equal(empty.value, null);
  t.match(empty.warning, /empty/);
});

t.test('tegra_chip_id: decimal (hex tolerated), garbage → null with a warning', async (t) => {
  t.equal(parseChipId('33\n').value, 33);
  t.equal(parseChipId('0x23').value, 35);
  const bad = parseChipId('tegra\n');
  t.equal(bad.value, null);
  t.match(bad.warning, /not a number: "tegra"/);
  t.equal(parseChipId('').value, null);
});

t.test('dtsfilename: SoC from the file name, module pNNNN-NNNN, codename before kernel-dts', async (t) => {
  const nano = parseDtsFilename(Buffer.from('/x/t210/porg/kernel-dts/tegra210-p3448-0000-p3449-0000-b00.dts\0'));
  t.same(nano.value, { socToken: 'tegra210', module: 'p3448-0000', codename: 'porg' });
  t.same(parseDtsFilename('tegra186-quill-p3310-1000-c03-00-base').value, { socToken: 'tegra186', module: 'p3310-1000', codename: null });
  t.equal(parseDtsFilename('tegra234-p3701-0000-p3737-0000').value.module, 'p3701-0000');
  t.equal(parseDtsFilename('.../t23x/p3768/kernel-dts/tegra234-p3767-0003-p3768-0000-a0.dts').value.codename, 'p3768');
  const bad = parseDtsFilename('something-else.dts');
  t.equal(bad.value.socToken, null);
  t.match(bad.warning, /does not start with a tegra SoC/);
});

t.test('nv_tegra_release: line 1 → 3-component L4T; multi-line R36; 12-hour dates', async (t) => {
  const rows: Array<[string, string]> = [
    ['# R32 (release), REVISION: 4.3, GCID: 21589087, BOARD: t210ref, EABI: aarch64, DATE: Fri Jun 26 04:38:25 UTC 2020', '32.4.3'],
    ['# R28 (release), REVISION: 2.0, GCID: 10567845, BOARD: t186ref, EABI: aarch64, DATE: Fri Mar  2 04:57:01 UTC 2018', '28.2.0'],
    ['# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: Tue Aug  1 19:57:35 UTC 2023', '35.4.1'],
    ['# R39 (release), REVISION: 2.0, GCID: 45755727, BOARD: generic, EABI: aarch64, DATE: Mon Jun  1 09:28:48 PM UTC 2026', '39.2.0'],
    ['# R35 (release), REVISION: 5.0, GCID: 35550185, …', '35.5.0'],
  ];
  for (const [line, l4t] of rows) t.equal(parseNvTegraRelease(line + '\n').value.l4t, l4t, l4t);
  const r36 = parseNvTegraRelease(
    '# R36 (release), REVISION: 4.7, GCID: 42132812, BOARD: generic, EABI: aarch64, DATE: Thu Sep 18 22:54:44 UTC 2025\n' +
      '# KERNEL_VARIANT: oot\nTARGET_USERSPACE_LIB_DIR=nvidia\nTARGET_USERSPACE_LIB_DIR_PATH=usr/lib/aarch64-linux-gnu/nvidia\n',
  );
  t.same(r36, { value: { l4t: '36.4.7', major: 36, board: 'generic' } });
});

t.test('nv_tegra_release: REVISION 5 and 5.0 both give 32.5.0; malformed → partial + warning', async (t) => {
  t.equal(parseNvTegraRelease('# R32 (release), REVISION: 5, GCID: 1, BOARD: t210ref').value.l4t, '32.5.0');
  t.equal(parseNvTegraRelease('# R32 (release), REVISION: 5.0, GCID: 1, BOARD: t210ref').value.l4t, '32.5.0');
  const odd = parseNvTegraRelease('# R32 (release), REVISION: 5.x-beta, GCID: 1');
  t.equal(odd.value.l4t, null);
  t.equal(odd.value.major, 32, 'the major is still reported');
  t.match(odd.warning, /unknown REVISION format "5.x-beta"/);
  const empty = parseNvTegraRelease('');
  t.equal(empty.value.l4t, null);
  t.match(empty.warning, /empty first line/);
  t.match(parseNvTegraRelease('garbage\n# R32 (release), REVISION: 4.3').warning, /not "# R<major> \(release\)/, 'only line 1 counts');
});

t.test('NvInferVersion.h: plain macros and the TRT_MAJOR_ENTERPRISE indirection', async (t) => {
  const plain =
    '#define NV_TENSORRT_MAJOR 8 //!< TensorRT major version.\n#define NV_TENSORRT_MINOR 5 //!< TensorRT minor version.\n' +
    '#define NV_TENSORRT_PATCH 2 //!< TensorRT patch version.\n#define NV_TENSORRT_BUILD 2 //!< TensorRT build number.\n' +
    '#define NV_TENSORRT_SONAME_MAJOR 8\n';
  t.same(nvInferVersionFact(plain).value, { major: 8, minor: 5, patch: 2, build: 2, version: '8.5.2' });
  const enterprise =
    '#define TRT_MAJOR_ENTERPRISE 10\n#define TRT_MINOR_ENTERPRISE 14\n#define TRT_PATCH_ENTERPRISE 1\n#define TRT_BUILD_ENTERPRISE 48\n' +
    '#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE //!< TensorRT major version.\n#define NV_TENSORRT_MINOR TRT_MINOR_ENTERPRISE //!< TensorRT minor version.\n' +
    '#define NV_TENSORRT_PATCH TRT_PATCH_ENTERPRISE //!< TensorRT patch version.\n#define NV_TENSORRT_BUILD TRT_BUILD_ENTERPRISE //!< TensorRT build number.\n';
  t.same(nvInferVersionFact(enterprise).value, { major: 10, minor: 14, patch: 1, build: 48, version: '10.14.1' });
  const garbage = nvInferVersionFact('\x7fELF\x02\x01 not a header');
  t.equal(garbage.value, null);
  t.match(garbage.warning, /no resolvable NV_TENSORRT_MAJOR/);
  const dangling = nvInferVersionFact('#define NV_TENSORRT_MAJOR TRT_MAJOR_UNDEFINED\n#define NV_TENSORRT_MINOR 2\n#define NV_TENSORRT_PATCH 1\n');
  t.equal(dangling.value, null, 'an unresolvable indirection is not a version');
  const loop = nvInferVersionFact('#define NV_TENSORRT_MAJOR A\n#define A B\n#define B A\n#define NV_TENSORRT_MINOR 1\n#define NV_TENSORRT_PATCH 0\n');
  t.equal(loop.value, null, 'a define loop ends');
});

t.test('library file names', async (t) => {
  t.equal(versionFromLibName('libnvinfer.so.8.5.2', 'libnvinfer'), '8.5.2');
  t.equal(versionFromLibName('libnvinfer.so.8.5.1.7', 'libnvinfer'), '8.5.1', 'x86 tarball 4-component name');
  t.equal(versionFromLibName('libnvinfer_plugin.so.10.3.0', 'libnvinfer'), null, 'another library');
  t.equal(versionFromLibName('libnvinfer.so.8', 'libnvinfer'), null, 'SONAME link has no full version');
  t.equal(sonameMajor('libnvinfer_plugin.so.7', 'libnvinfer_plugin'), 7);
  t.equal(sonameMajor('libnvinfer_plugin.so.7.1.3', 'libnvinfer_plugin'), null);
});

t.test('CUDA version.txt and version.json', async (t) => {
  t.equal(parseCudaVersionTxt('CUDA Version 10.2.89\n').value, '10.2.89');
  t.match(parseCudaVersionTxt('').warning, /no "CUDA Version/);
  const json = JSON.stringify({ cuda: { name: 'CUDA SDK', version: '11.4.19' }, cuda_nvcc: { name: 'CUDA NVCC', version: '11.4.315' } });
  t.equal(parseCudaVersionJson(json).value, '11.4.315', 'nvcc version preferred (what nvcc --version prints)');
  t.equal(parseCudaVersionJson('{"cuda":{"version":"12.2.0"}}').value, '12.2.0');
  t.match(parseCudaVersionJson('{"cuda": ').warning, /not valid JSON/);
  t.match(parseCudaVersionJson('null').warning, /neither/);
});

t.test('cuDNN header, cmake --version, usr/share/cmake-X.Y, os-release', async (t) => {
  t.equal(parseCudnnHeader('#define CUDNN_MAJOR 8\n#define CUDNN_MINOR 6\n#define CUDNN_PATCHLEVEL 0\n').value, '8.6.0');
  t.match(parseCudnnHeader('#define CUDNN_VERSION 8600').warning, /no CUDNN_MAJOR/);
  t.equal(cmakeVersionFact('cmake version 3.10.2\n\nCMake suite maintained and supported by Kitware (kitware.com/cmake).\n').value, '3.10.2');
  t.equal(cmakeVersionFact('cmake version 3.31.0-rc1\n').value, '3.31.0');
  t.match(cmakeVersionFact('bash: cmake: command not found').warning, /unexpected/);
  t.equal(cmakeVersionFromShareDir('cmake-3.22'), '3.22');
  t.equal(cmakeVersionFromShareDir('cmake'), null);
  t.equal(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n').value, 'Debian GNU/Linux 12 (bookworm)');
  t.equal(parseOsRelease('NAME=Ubuntu\nVERSION_ID="22.04"\n').value, 'Ubuntu 22.04');
  t.equal(parseOsRelease('').value, null);
});

t.test('dpkg status: installed stanzas only; the stack as dpkg sees it', async (t) => {
  const status = [
    'Package: libnvinfer8\nStatus: install ok installed\nArchitecture: arm64\nVersion: 8.5.2-1+cuda11.4\nDescription: TensorRT runtime\n multi-line\n description',
    'Package: libnvinfer-plugin8\nStatus: install ok installed\nVersion: 8.5.2-1+cuda11.4',
    'Package: libnvinfer7\nStatus: deinstall ok config-files\nVersion: 7.1.3-1+cuda10.2',
    'Package: libcudnn8\nStatus: install ok installed\nVersion: 8.6.0.166-1+cuda11.4',
    'Package: cuda-toolkit-11-4\nStatus: install ok installed\nVersion: 11.4.19-1',
    'Package: nvidia-l4t-core\nStatus: install ok installed\nVersion: 36.4.7-20250918154033',
    'Package: nvidia-jetpack\nStatus: install ok installed\nVersion: 5.1.2-b104',
    'Package: cmake\nStatus: install ok installed\nVersion: 1:3.22.1-1ubuntu1',
    'Status: install ok installed\nVersion: 1.0',
  ].join('\n\n');
  const { packages, skipped } = parseDpkgStatus(status);
  t.equal(skipped, 1, 'the stanza without Package is counted, not fatal');
  t.notOk(packages.has('libnvinfer7'), 'config-files only is not installed');
  t.same(dpkgStack(packages), {
    tensorrt: { version: '8.5.2', package: 'libnvinfer8' },
    pluginPackage: { name: 'libnvinfer-plugin8', version: '8.5.2-1+cuda11.4' },
    cudnn: { version: '8.6.0', package: 'libcudnn8' },
    cuda: { version: '11.4.19', package: 'cuda-toolkit-11-4' },
    l4t: '36.4.7',
    jetpack: '5.1.2',
    cmake: '3.22.1',
  });
});

t.test('dpkg status: JP6 names, meta tensorrt fallback, empty and garbage input', async (t) => {
  const jp6 = parseDpkgStatus(
    'Package: libnvinfer10\nStatus: install ok installed\nVersion: 10.3.0.30-1+cuda12.5\n\n' +
      'Package: libcudnn9-cuda-12\nStatus: install ok installed\nVersion: 9.3.0.75-1\n\n' +
      'Package: cuda-cudart-12-6\nStatus: install ok installed\nVersion: 12.6.68-1\n',
  );
  const s = dpkgStack(jp6.packages);
  t.same(s.tensorrt, { version: '10.3.0', package: 'libnvinfer10' }, '4-component deb version → MAJOR.MINOR.PATCH');
  t.same(s.cudnn, { version: '9.3.0', package: 'libcudnn9-cuda-12' });
  t.same(s.cuda, { version: '12.6.68', package: 'cuda-cudart-12-6' });
  const meta = dpkgStack(parseDpkgStatus('Package: tensorrt\nStatus: install ok installed\nVersion: 7.1.3.0-1+cuda10.2\n').packages);
  t.same(meta.tensorrt, { version: '7.1.3', package: 'tensorrt' });
  const empty = dpkgStack(parseDpkgStatus('').packages);
  t.same(empty, { tensorrt: null, pluginPackage: null, cudnn: null, cuda: null, l4t: null, jetpack: null, cmake: null });
  t.doesNotThrow(() => dpkgStack(parseDpkgStatus('\0\0\x7fELF\n:::\n\n\n').packages));
  t.equal(upstreamVersion('1:3.22.1-1ubuntu1'), '3.22.1');
  t.equal(upstreamVersion('36.4.7-20250918154033'), '36.4.7');
});

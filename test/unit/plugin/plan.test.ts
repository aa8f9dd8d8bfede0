import t from 'tap';
import type { BoardInfo } from '../../../agent/src/core/contracts/board.js';
import path from 'node:path';
import {
  branchForTensorrt,
  creatorsOf,
  defaultJobs,
  generationOfRef,
  minimumCmake,
  parseGpuArchs,
  planBuild,
  progressPercent,
  type BuildPlan,
} from '../../../agent/src/plugin/plan.js';
import { compareVersions, parseCmakeVersion, parseNvInferVersionHeader, parseNvccVersion } from '../../../agent/src/plugin/version.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { treeFromDir } from '../../helpers/trt-oss-tree.js';

const GiB = 1024 ** 3;
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'trt-oss');
const tree = (shape: string): ReturnType<typeof treeFromDir> => treeFromDir(path.join(FIXTURES, shape));

function board(tensorrt: string | null, cudaArch: number | null, cuda: string | null, isJetson = true): BoardInfo {
  return {
    isJetson,
    model: null,
    module: null,
    soc: null,
    chipId: null,
    cudaArch,
    l4t: null,
    jetpack: null,
    cuda,
    cudnn: null,
    tensorrt,
    cmake: null,
    trtOssBranch: null,
    pluginLibrary: null,
    trtLibDir: '/usr/lib/aarch64-linux-gnu',
    pluginPackage: null,
    sources: {},
    warnings: [],
  };
}

const io = { cpuCount: 4, memAvailableBytes: 8 * GiB, sourceDir: '/s', buildDir: '/b', outDir: '/o', trtLibDir: '/usr/lib/aarch64-linux-gnu', cCompiler: '/usr/bin/gcc', cudaCompiler: '/usr/local/cuda/bin/nvcc' };

function plan(b: BoardInfo, shape: string, extra: Partial<Parameters<typeof planBuild>[0]> = {}): BuildPlan {
  const p = planBuild({ board: b, tree: tree(shape), ...io, ...extra });
  if ('kind' in p) throw new Error(p.message);
  return p;
}

// One row per source-tree shape (test/fixtures/trt-oss/<shape>, each in the layout of the
// real NVIDIA/TensorRT branches named; docs/reference/tensorrt-oss-trees.md), with the board
// it ships on. The nvcc is the board's own, so no CUDA warning.
const SHAPES: { shape: string; stands: string; trt: string; arch: number; cuda: string; branch: string; cmake: string; archArg: string; cudaArg: boolean; target: string; missing: string[] }[] = [
  { shape: 'release-7.1', stands: '7.1, 7.2, 8.0, 8.2', trt: '7.1.3', arch: 53, cuda: '10.2.89', branch: 'release/7.1', cmake: '3.13', archArg: '-DGPU_ARCHS=53', cudaArg: true, target: 'nvinfer_plugin', missing: [] },
  { shape: 'release-7.1', stands: '7.1, 7.2, 8.0, 8.2', trt: '8.2.1', arch: 62, cuda: '10.2.300', branch: 'release/8.2', cmake: '3.13', archArg: '-DGPU_ARCHS=62', cudaArg: true, target: 'nvinfer_plugin', missing: [] },
  { shape: 'release-8.6', stands: '8.4, 8.5, 8.6', trt: '8.5.2', arch: 87, cuda: '11.4.315', branch: 'release/8.5', cmake: '3.13', archArg: '-DGPU_ARCHS=87', cudaArg: true, target: 'nvinfer_plugin', missing: [] },
  { shape: 'release-8.6', stands: '8.4, 8.5, 8.6', trt: '8.6.2', arch: 87, cuda: '12.2.140', branch: 'release/8.6', cmake: '3.13', archArg: '-DGPU_ARCHS=87', cudaArg: true, target: 'nvinfer_plugin', missing: [] },
  { shape: 'release-10.3', stands: '10.0 … 10.12', trt: '10.3.0', arch: 87, cuda: '12.6.68', branch: 'release/10.3', cmake: '3.13', archArg: '-DGPU_ARCHS=87', cudaArg: true, target: 'nvinfer_plugin', missing: [] },
  { shape: 'release-10.16', stands: '10.13 … 10.16', trt: '10.16.1', arch: 110, cuda: '13.2.51', branch: 'release/10.16', cmake: '3.13', archArg: '-DGPU_ARCHS=110', cudaArg: true, target: 'nvinfer_plugin', missing: [] },
  { shape: 'release-11.0', stands: '11.0', trt: '11.0.0', arch: 110, cuda: '13.0.48', branch: 'release/11.0', cmake: '3.31', archArg: '-DCMAKE_CUDA_ARCHITECTURES=110', cudaArg: false, target: 'nvinfer_plugin', missing: ['batchTilePlugin', 'batchedNMSPlugin'] },
  { shape: 'main', stands: '11.1, main', trt: '11.1.0', arch: 110, cuda: '13.2.51', branch: 'release/11.1', cmake: '3.31', archArg: '-DCMAKE_CUDA_ARCHITECTURES=110', cudaArg: false, target: 'tensorrt_plugins', missing: ['batchTilePlugin', 'batchedNMSPlugin'] },
];

t.test('per source-tree shape: make target, cmake minimum and the full cmake argv, read from the tree', async (t) => {
  for (const row of SHAPES) {
    const p = plan(board(row.trt, row.arch, row.cuda), row.shape, { nvccVersion: row.cuda });
    const [maj, min] = row.cuda.split('.');
    const what = `${row.shape} (stands for ${row.stands}) on TensorRT ${row.trt}`;
    t.equal(p.branch, row.branch, `${what}: branch`);
    t.equal(p.minimumCmake, row.cmake, `${what}: cmake_minimum_required of the tree`);
    t.same(p.makeArgs, [row.target, '-j4'], `${what}: make target`);
    t.same(p.missingTaoPlugins, row.missing, `${what}: TAO plugin sources the tree lacks`);
    t.same(
      p.cmakeArgs,
      [
        '-S', '/s', '-B', '/b',
        row.archArg,
        '-DTRT_LIB_DIR=/usr/lib/aarch64-linux-gnu',
        '-DTRT_OUT_DIR=/o',
        '-DTRT_PLATFORM_ID=aarch64',
        ...(row.cudaArg ? [`-DCUDA_VERSION=${maj}.${min}`] : []),
        '-DCMAKE_C_COMPILER=/usr/bin/gcc',
        '-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc',
        '-DBUILD_PARSERS=OFF',
        '-DBUILD_SAMPLES=OFF',
      ],
      `${what}: full cmake argv`,
    );
    t.same(p.unusedDefines, row.cudaArg ? [] : ['CUDA_VERSION'], `${what}: CUDA_VERSION left out where the tree never reads it (cmake would warn)`);
    t.same(p.searchDirs, ['/o', '/b'], 'out/ first, then build/');
    t.equal(p.warnings.length, row.missing.length ? 1 : 0, `${what}: warnings`);
  }
});

t.test('the tree decides, not the ref: a release/11.0-shaped tree under --ref main still builds nvinfer_plugin', async (t) => {
  const p = plan(board('11.0.0', 110, '13.0'), 'release-11.0', { ref: 'main' });
  t.equal(p.branch, 'main');
  t.same(p.makeArgs[0], 'nvinfer_plugin', 'release/11.0 sets no new-flow switch, so its else() branch defines nvinfer_plugin');
  const m = plan(board('10.3.0', 87, '12.6'), 'main', { ref: 'release/10.3' });
  t.equal(m.makeArgs[0], 'tensorrt_plugins', 'a main-shaped tree under a 10.x ref still builds tensorrt_plugins');
  t.equal(m.minimumCmake, '3.31', "and needs the tree's cmake 3.31, whatever the ref says");
});

t.test('warnings: a tree without BatchTile/BatchedNMS, and a CUDA that differs from the nvcc', async (t) => {
  const p = plan(board('11.1.0', 87, '12.6.68'), 'main', { nvccVersion: '13.0.48' });
  t.equal(p.warnings.length, 2);
  t.match(p.warnings.join('\n'), /board reports CUDA 12\.6 but \/usr\/local\/cuda\/bin\/nvcc is CUDA 13\.0: the plugin is compiled and linked with CUDA 13\.0\. Pass --cuda-compiler/);
  t.notMatch(p.warnings.join('\n'), /-DCUDA_VERSION/, 'main does not read CUDA_VERSION, so the warning does not claim it is passed');
  t.match(p.warnings.join('\n'), /no plugin\/batchTilePlugin or plugin\/batchedNMSPlugin sources .*will not register BatchTilePlugin_TRT, BatchedNMS_TRT, BatchedNMSDynamic_TRT.*re-export the model with EfficientNMS.*or stay on TensorRT 10/s);
  const old = plan(board('8.5.2', 87, '11.4.315'), 'release-8.6', { nvccVersion: '12.2.140' });
  t.match(old.warnings[0] ?? '', /CUDA 11\.4 but .* is CUDA 12\.2.* while -DCUDA_VERSION=11\.4 is passed/, '8.x reads CUDA_VERSION: the warning says which value went in');
  t.same(plan(board('8.5.2', 87, '11.4.315'), 'release-8.6', { nvccVersion: '11.4.315' }).warnings, [], 'same CUDA: no warning');
  t.same(creatorsOf(['batchedNMSPlugin']), ['BatchedNMS_TRT', 'BatchedNMSDynamic_TRT']);
});

t.test('overrides and fallbacks', async (t) => {
  const nano = board('7.1.3', 53, '10.2.89');
  t.equal(plan(nano, 'release-7.1', { ref: 'release/7.2' }).branch, 'release/7.2', '--ref wins');
  t.ok(plan(nano, 'release-7.1', { gpuArchs: [53, 62, 72] }).cmakeArgs.includes('-DGPU_ARCHS=53 62 72'), 'GPU_ARCHS is one space-separated argv element');
  t.ok(plan(board('11.0.0', 87, '13.0'), 'release-11.0', { gpuArchs: [87, 110] }).cmakeArgs.includes('-DCMAKE_CUDA_ARCHITECTURES=87;110'));
  t.ok(plan(board('7.1.3', 53, null), 'release-7.1', { nvccVersion: '10.2.89' }).cmakeArgs.includes('-DCUDA_VERSION=10.2'), 'CUDA_VERSION from nvcc when detection has none');
  t.equal(plan(nano, 'release-7.1', { jobs: 7 }).jobs, 7);
  const x86 = plan(board('8.6.1', null, '12.2', false), 'release-8.6', { gpuArchs: [86] });
  t.notOk(x86.cmakeArgs.includes('-DTRT_PLATFORM_ID=aarch64'), 'no aarch64 platform id off-Jetson');
  const noArch = planBuild({ board: board('8.6.1', null, '12.2', false), tree: tree('release-8.6'), ...io });
  t.equal('kind' in noArch ? noArch.kind : 'plan', 'no-arch', 'no arch and no override is a problem, not a guess');
  const noTrt = planBuild({ board: board(null, 53, '10.2'), tree: tree('release-7.1'), ...io });
  t.equal('kind' in noTrt ? noTrt.kind : 'plan', 'no-branch');
  const empty = planBuild({ board: nano, tree: { files: new Map([['CMakeLists.txt', 'project(x)\n']]), dirs: new Set() }, ...io });
  t.same('kind' in empty ? [empty.kind, empty.message] : [], ['tree-unreadable', '/s is not a TensorRT OSS tree this agent can read: the tree has no plugin/CMakeLists.txt.']);
});

t.test('small pure helpers', async (t) => {
  t.equal(branchForTensorrt('10.3.0.30'), 'release/10.3');
  t.equal(branchForTensorrt('x'), undefined);
  t.same(generationOfRef('release/10.13'), { major: 10, minor: 13 });
  t.equal(generationOfRef('21.03'), undefined);
  t.equal(minimumCmake(undefined), '3.13');
  t.equal(minimumCmake({ major: 11, minor: 1 }), '3.31');
  t.same(parseGpuArchs('53 62,72;87'), [53, 62, 72, 87]);
  t.equal(parseGpuArchs('“61”'), undefined, 'typographic quotes rejected (tensorrt-oss-plugin.md, TensorRT #1380)');
  t.equal(parseGpuArchs(''), undefined, 'empty rejected (tensorrt-oss-plugin.md, TensorRT #2610)');
  t.equal(defaultJobs(4, 3 * GiB), 2, 'Nano 4 GB with 3 GiB free: -j2');
  t.equal(defaultJobs(12, 60 * GiB), 12, 'AGX Orin: all CPUs');
  t.equal(defaultJobs(4, 0.5 * GiB), 1, 'never below 1');
  t.equal(progressPercent('[ 45%] Building CUDA object plugin/x.cu.o'), 45);
  t.equal(progressPercent('Scanning dependencies'), undefined);
  t.equal(compareVersions('3.10.2', '3.13'), -1);
  t.equal(compareVersions('3.31.0', '3.31'), 0);
  t.equal(compareVersions('4.0', '3.31'), 1);
  t.equal(parseCmakeVersion('cmake version 3.25.1\n\nCMake suite'), '3.25.1');
  t.equal(parseNvccVersion('Cuda compilation tools, release 10.2, V10.2.89'), '10.2.89');
});

t.test('NvInferVersion.h: both macro styles (plain numbers; TRT_*_ENTERPRISE from 10.11 on)', async (t) => {
  t.same(parseNvInferVersionHeader('#define NV_TENSORRT_MAJOR 8\n#define NV_TENSORRT_MINOR 2\n#define NV_TENSORRT_PATCH 1 //!< patch\n#define NV_TENSORRT_SONAME_MAJOR 8\n'), {
    major: 8,
    minor: 2,
    patch: 1,
    build: null,
    sonameMajor: 8,
    version: '8.2.1',
  });
  const trt1013 = '#define TRT_MAJOR_ENTERPRISE 10\n#define TRT_MINOR_ENTERPRISE 13\n#define TRT_PATCH_ENTERPRISE 0\n#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE\n#define NV_TENSORRT_MINOR TRT_MINOR_ENTERPRISE\n#define NV_TENSORRT_PATCH TRT_PATCH_ENTERPRISE\n';
  t.same(parseNvInferVersionHeader(trt1013), { major: 10, minor: 13, patch: 0, build: null, sonameMajor: 10, version: '10.13.0' });
  t.equal(parseNvInferVersionHeader('#define NV_TENSORRT_MAJOR 8\n'), undefined);
});

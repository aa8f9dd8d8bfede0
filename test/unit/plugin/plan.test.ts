import t from 'tap';
import type { BoardInfo } from '../../../agent/src/core/contracts/board.js';
import {
  archVariable,
  branchForTensorrt,
  defaultJobs,
  generationOfRef,
  minimumCmake,
  outputVariable,
  parseGpuArchs,
  planBuild,
  progressPercent,
  type BuildPlan,
} from '../../../agent/src/plugin/plan.js';
import { compareVersions, parseCmakeVersion, parseNvInferVersionHeader, parseNvccVersion } from '../../../agent/src/plugin/version.js';

const GiB = 1024 ** 3;

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

function plan(b: BoardInfo, extra: Partial<Parameters<typeof planBuild>[0]> = {}): BuildPlan {
  const p = planBuild({ board: b, ...io, ...extra });
  if ('kind' in p) throw new Error(p.message);
  return p;
}

// One row per branch the reference names (jetson-platform.md §4.1–4.3), with the board it ships on.
const BRANCHES: { trt: string; arch: number; cuda: string; branch: string; cmake: string; archVar: string; outVar: string; archArg: string }[] = [
  { trt: '7.0.0', arch: 72, cuda: '10.2.89', branch: 'release/7.0', cmake: '3.13', archVar: 'GPU_ARCHS', outVar: 'TRT_BIN_DIR', archArg: '-DGPU_ARCHS=72' },
  { trt: '7.1.3', arch: 53, cuda: '10.2.89', branch: 'release/7.1', cmake: '3.13', archVar: 'GPU_ARCHS', outVar: 'TRT_OUT_DIR', archArg: '-DGPU_ARCHS=53' },
  { trt: '8.2.1', arch: 62, cuda: '10.2.300', branch: 'release/8.2', cmake: '3.13', archVar: 'GPU_ARCHS', outVar: 'TRT_OUT_DIR', archArg: '-DGPU_ARCHS=62' },
  { trt: '8.5.2', arch: 87, cuda: '11.4.315', branch: 'release/8.5', cmake: '3.13', archVar: 'GPU_ARCHS', outVar: 'TRT_OUT_DIR', archArg: '-DGPU_ARCHS=87' },
  { trt: '8.6.2', arch: 87, cuda: '12.2.140', branch: 'release/8.6', cmake: '3.13', archVar: 'GPU_ARCHS', outVar: 'TRT_OUT_DIR', archArg: '-DGPU_ARCHS=87' },
  { trt: '10.3.0', arch: 87, cuda: '12.6.68', branch: 'release/10.3', cmake: '3.13', archVar: 'GPU_ARCHS', outVar: 'TRT_OUT_DIR', archArg: '-DGPU_ARCHS=87' },
  { trt: '11.0.0', arch: 110, cuda: '13.0.48', branch: 'release/11.0', cmake: '3.31', archVar: 'CMAKE_CUDA_ARCHITECTURES', outVar: 'TRT_OUT_DIR', archArg: '-DCMAKE_CUDA_ARCHITECTURES=110' },
];

t.test('per-branch plan: branch, cmake minimum, arch and output variables, full cmake argv', async (t) => {
  for (const row of BRANCHES) {
    const p = plan(board(row.trt, row.arch, row.cuda));
    const [maj, min] = row.cuda.split('.');
    t.equal(p.branch, row.branch, `${row.trt} → ${row.branch}`);
    t.equal(p.minimumCmake, row.cmake, `${row.branch} needs cmake ≥ ${row.cmake}`);
    t.equal(p.archVariable, row.archVar, `${row.branch} arch variable`);
    t.equal(p.outputVariable, row.outVar, `${row.branch} output variable`);
    t.same(
      p.cmakeArgs,
      [
        '-S', '/s', '-B', '/b',
        row.archArg,
        '-DTRT_LIB_DIR=/usr/lib/aarch64-linux-gnu',
        `-D${row.outVar}=/o`,
        '-DTRT_PLATFORM_ID=aarch64',
        `-DCUDA_VERSION=${maj}.${min}`,
        '-DCMAKE_C_COMPILER=/usr/bin/gcc',
        '-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc',
        '-DBUILD_PARSERS=OFF',
        '-DBUILD_SAMPLES=OFF',
      ],
      `${row.branch} full cmake argv`,
    );
    t.same(p.makeArgs, ['nvinfer_plugin', '-j4']);
    t.same(p.searchDirs, ['/o', '/b'], 'out/ first, then build/');
  }
});

t.test('main: cmake 3.31 and CMAKE_CUDA_ARCHITECTURES (GPU_ARCHS dropped)', async (t) => {
  const p = plan(board('10.3.0', 110, '13.0.48'), { ref: 'main' });
  t.equal(p.branch, 'main');
  t.equal(p.minimumCmake, '3.31');
  t.ok(p.cmakeArgs.includes('-DCMAKE_CUDA_ARCHITECTURES=110'));
  t.notOk(p.cmakeArgs.some((a) => a.startsWith('-DGPU_ARCHS')));
});

t.test('overrides and fallbacks', async (t) => {
  const nano = board('7.1.3', 53, '10.2.89');
  t.equal(plan(nano, { ref: 'release/7.2' }).branch, 'release/7.2', '--ref wins');
  t.ok(plan(nano, { gpuArchs: [53, 62, 72] }).cmakeArgs.includes('-DGPU_ARCHS=53 62 72'), 'GPU_ARCHS is one space-separated argv element');
  t.ok(plan(board('11.0.0', 87, '13.0'), { gpuArchs: [87, 110] }).cmakeArgs.includes('-DCMAKE_CUDA_ARCHITECTURES=87;110'));
  t.ok(plan(board('7.1.3', 53, null), { cudaVersionFallback: '10.2.89' }).cmakeArgs.includes('-DCUDA_VERSION=10.2'), 'CUDA_VERSION from nvcc when detection has none');
  t.equal(plan(nano, { jobs: 7 }).jobs, 7);
  // A tag (no release/X.Y in the name) with a 7.0 tree header: the tree decides.
  t.equal(plan(nano, { ref: '20.03', treeGeneration: { major: 7, minor: 0 } }).outputVariable, 'TRT_BIN_DIR');
  const x86 = plan(board('8.6.1', null, '12.2', false), { gpuArchs: [86] });
  t.notOk(x86.cmakeArgs.includes('-DTRT_PLATFORM_ID=aarch64'), 'no aarch64 platform id off-Jetson');
  const noArch = planBuild({ board: board('8.6.1', null, '12.2', false), ...io });
  t.equal('kind' in noArch ? noArch.kind : 'plan', 'no-arch', 'no arch and no override is a problem, not a guess');
  const noTrt = planBuild({ board: board(null, 53, '10.2'), ...io });
  t.equal('kind' in noTrt ? noTrt.kind : 'plan', 'no-branch');
});

t.test('small pure helpers', async (t) => {
  t.equal(branchForTensorrt('10.3.0.30'), 'release/10.3');
  t.equal(branchForTensorrt('x'), undefined);
  t.same(generationOfRef('release/10.13'), { major: 10, minor: 13 });
  t.equal(generationOfRef('21.03'), undefined);
  t.equal(minimumCmake(undefined), '3.13');
  t.equal(minimumCmake({ major: 11, minor: 1 }), '3.31');
  t.equal(outputVariable({ major: 6, minor: 0 }), 'TRT_BIN_DIR');
  t.equal(archVariable({ major: 10, minor: 16 }), 'GPU_ARCHS');
  t.same(parseGpuArchs('53 62,72;87'), [53, 62, 72, 87]);
  t.equal(parseGpuArchs('“61”'), undefined, 'typographic quotes rejected (§4.7, TensorRT #1380)');
  t.equal(parseGpuArchs(''), undefined, 'empty rejected (§4.7, TensorRT #2610)');
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

t.test('NvInferVersion.h: both macro styles (jetson-platform.md §3.3)', async (t) => {
  t.same(parseNvInferVersionHeader('#define NV_TENSORRT_MAJOR 8\n#define NV_TENSORRT_MINOR 2\n#define NV_TENSORRT_PATCH 1 //!< patch\n#define NV_TENSORRT_SONAME_MAJOR 8\n'), {
    major: 8,
    minor: 2,
    patch: 1,
    sonameMajor: 8,
  });
  const trt1013 = '#define TRT_MAJOR_ENTERPRISE 10\n#define TRT_MINOR_ENTERPRISE 13\n#define TRT_PATCH_ENTERPRISE 0\n#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE\n#define NV_TENSORRT_MINOR TRT_MINOR_ENTERPRISE\n#define NV_TENSORRT_PATCH TRT_PATCH_ENTERPRISE\n';
  t.same(parseNvInferVersionHeader(trt1013), { major: 10, minor: 13, patch: 0, sonameMajor: 10 });
  t.equal(parseNvInferVersionHeader('#define NV_TENSORRT_MAJOR 8\n'), undefined);
});

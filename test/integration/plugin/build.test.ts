import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, runCli } from '../../helpers/cli.js';
import { makeBoardRoot } from '../../helpers/plugin-board.js';

// REAL builds: cmake + make + cc on the TensorRT-OSS-shaped fixtures (C only, no CUDA code),
// one per source-tree shape (test/fixtures/trt-oss/<shape>). The CUDA compiler is
// test/fixtures/bin/nvcc-double, which only answers --version: these tests prove the
// invocation, the make target and the cmake variables, not a CUDA compile (that is a board
// check in docs/hardware-validation.md).
const SHAPES = path.join(REPO_ROOT, 'test', 'fixtures', 'trt-oss');
const FIXTURE = path.join(SHAPES, 'release-7.1');
// release/11.x and main need cmake ≥ 3.31; JETSON_TEST_CMAKE may name one (e.g. Debian
// bookworm-backports' 3.31) when the system cmake is older.
const CMAKE_331 = process.env.JETSON_TEST_CMAKE;
const NVCC_DOUBLE = path.join(REPO_ROOT, 'test', 'fixtures', 'bin', 'nvcc-double');
const CMAKE_3_10 = path.join(REPO_ROOT, 'test', 'fixtures', 'bin', 'cmake-3.10.2');

interface Artifact {
  file: string;
  name: string;
  sha256: string;
  soname: string;
  branch: string;
  commit: string | null;
  gpuArchs: number[];
  cmakeArgs: string[];
  buildLog: string;
  treeVersion: string;
  cudaVersion: string;
}

function env(test: { testdir: typeof t.testdir }) {
  const dir = test.testdir({ root: {}, state: {} });
  const b = makeBoardRoot(path.join(dir, 'root'));
  const base = ['--root', b.root, '--state-dir', path.join(dir, 'state')];
  return { dir, b, base, state: path.join(dir, 'state') };
}

const json = <T>(s: string): T => JSON.parse(s) as T;

t.test('real fixture build from --source: cmake args per plan, artifact recorded, second run is a cache hit', async (t) => {
  const { b, base, state } = env(t);
  const r = await runCli(['plugin', 'build', '--source', FIXTURE, '--cuda-compiler', NVCC_DOUBLE, '--json', ...base], { timeoutMs: 120000 });
  t.equal(r.code, 0, r.stderr + r.stdout);
  const out = json<{ cached: boolean; artifact: Artifact }>(r.stdout);
  t.equal(out.cached, false);
  const a = out.artifact;
  t.equal(a.name, 'libnvinfer_plugin.so.7.1.3', 'TRT_VERSION from the tree header');
  t.equal(a.soname, 'libnvinfer_plugin.so.7', 'SONAME major');
  t.equal(a.branch, 'release/7.1', 'branch from TensorRT 7.1.3');
  t.same(a.gpuArchs, [53], 'GPU_ARCHS from the Nano (tegra210)');
  t.equal(a.cudaVersion, '10.2', 'CUDA_VERSION from nvcc --version');
  t.ok(a.cmakeArgs.includes('-DGPU_ARCHS=53'));
  t.ok(a.cmakeArgs.includes(`-DTRT_LIB_DIR=${b.hostLibDir}`));
  t.ok(a.cmakeArgs.some((x) => x.startsWith('-DTRT_OUT_DIR=')));
  t.ok(a.cmakeArgs.includes('-DTRT_PLATFORM_ID=aarch64'));
  t.ok(a.cmakeArgs.includes('-DBUILD_PARSERS=OFF') && a.cmakeArgs.includes('-DBUILD_SAMPLES=OFF'));
  t.ok(a.cmakeArgs.includes(`-DCMAKE_CUDA_COMPILER=${NVCC_DOUBLE}`));
  const lib = readFileSync(a.file);
  t.ok(lib.includes('jetson-fixture:tensorrt=7.1.3;gpu_archs=53;cuda=10.2;platform=aarch64'), 'the library records what cmake was told');
  for (const c of ['BatchTilePlugin_TRT', 'BatchedNMS_TRT', 'ResizeNearest_TRT']) t.ok(lib.includes(c + '\0'), `${c} string present`);
  const log = readFileSync(a.buildLog, 'utf8');
  t.match(log, /Building C object/, 'make output is in build.log');
  t.match(log, /\[100%\] Built target nvinfer_plugin/);
  t.notMatch(log, /Manually-specified variables were not used/, 'cmake read every -D the plan passed');
  t.equal(r.stderr, '', '--json: stdout has one JSON document and stderr stays quiet');

  const logMtime = statSync(a.buildLog).mtimeMs;
  const again = await runCli(['plugin', 'build', '--source', FIXTURE, '--cuda-compiler', NVCC_DOUBLE, '--json', ...base]);
  t.equal(again.code, 0, again.stderr);
  const second = json<{ cached: boolean; artifact: Artifact }>(again.stdout);
  t.equal(second.cached, true, 'identical inputs: cache hit');
  t.equal(second.artifact.sha256, a.sha256);
  t.equal(statSync(a.buildLog).mtimeMs, logMtime, 'no cmake/make ran (build log untouched)');

  const other = await runCli(['plugin', 'build', '--source', FIXTURE, '--cuda-compiler', NVCC_DOUBLE, '--gpu-archs', '53 62', ...base], { timeoutMs: 120000 });
  t.equal(other.code, 0, other.stderr);
  t.match(other.stdout, /^built: .*libnvinfer_plugin\.so\.7\.1\.3\n/, 'a different --gpu-archs is a new build');
  t.match(other.stderr, /plugin build: configuring \(cmake\)/, 'non-TTY progress is plain log lines');
  t.match(other.stderr, /plugin build: {2}\d{2}% Building C object.*\n(.*\n)*plugin build: 100% /, "percent lines from make");
  const last = json<{ dir: string }>(readFileSync(path.join(state, 'builds', 'last.json'), 'utf8'));
  const third = { artifact: json<Artifact>(readFileSync(path.join(last.dir, 'artifact.json'), 'utf8')) };
  t.ok(readFileSync(third.artifact.file).includes('gpu_archs=53 62;'), 'GPU_ARCHS="53 62" reached the build as a list');

  const inst = await runCli(['plugin', 'install', '--last-build', '--json', ...base]);
  t.equal(inst.code, 0, inst.stderr + inst.stdout);
  t.equal(json<{ sha256: string }>(inst.stdout).sha256, third.artifact.sha256, 'install --last-build takes the newest build');
  const st = json<{ origin: string; builtFor: { arch: string; branch: string } }>((await runCli(['plugin', 'status', '--json', ...base])).stdout);
  t.same({ origin: st.origin, arch: st.builtFor.arch, branch: st.builtFor.branch }, { origin: 'custom', arch: '53 62', branch: 'release/7.1' });
});

t.test('clone by branch from a real git repository (file:// URL), commit recorded; a bad URL is a clean error', async (t) => {
  const { dir, base, state } = env(t);
  const repo = path.join(dir, 'TensorRT');
  cpSync(FIXTURE, repo, { recursive: true });
  const git = (...args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=test', 'add', '.');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=test', 'commit', '-qm', 'fixture');
  git('branch', 'release/7.1');
  const head = git('rev-parse', 'HEAD');
  const r = await runCli(['plugin', 'build', '--git', `file://${repo}`, '--cuda-compiler', NVCC_DOUBLE, '--json', ...base], { timeoutMs: 120000 });
  t.equal(r.code, 0, r.stderr + r.stdout);
  const a = json<{ artifact: Artifact }>(r.stdout).artifact;
  t.equal(a.commit, head, 'commit of release/7.1 recorded');
  t.equal(a.branch, 'release/7.1');

  const bad = await runCli(['plugin', 'build', '--git', `file://${dir}/no-such-repo`, '--cuda-compiler', NVCC_DOUBLE, '--json', ...base]);
  t.equal(bad.code, 1);
  const err = json<{ error: { code: string; message: string } }>(bad.stdout).error;
  t.equal(err.code, 'PLUGIN_SOURCE_UNAVAILABLE');
  t.match(err.message, /Could not clone file:\/\/.*no-such-repo at release\/7\.1: .*partial clone was removed/);
  t.same(readdirSync(path.join(state, 'builds', 'sources')).filter((n) => n.startsWith('.clone-')), [], 'no partial clone left');

  const noBranch = await runCli(['plugin', 'build', '--git', `file://${repo}`, '--ref', 'release/8.2', '--cuda-compiler', NVCC_DOUBLE, '--json', ...base]);
  t.equal(json<{ error: { code: string } }>(noBranch.stdout).error.code, 'PLUGIN_SOURCE_UNAVAILABLE', 'missing branch');
});

t.test('offline: --source FILE.tar.gz of a tree (one top-level dir, as GitHub archives)', async (t) => {
  const { dir, base } = env(t);
  cpSync(FIXTURE, path.join(dir, 'TensorRT-release-7.1'), { recursive: true });
  execFileSync('tar', ['-czf', path.join(dir, 'trt.tar.gz'), '-C', dir, 'TensorRT-release-7.1']);
  const r = await runCli(['plugin', 'build', '--source', path.join(dir, 'trt.tar.gz'), '--cuda-compiler', NVCC_DOUBLE, '--json', ...base], { timeoutMs: 120000 });
  t.equal(r.code, 0, r.stderr + r.stdout);
  t.equal(json<{ artifact: Artifact }>(r.stdout).artifact.name, 'libnvinfer_plugin.so.7.1.3');
});

t.test('release/7.0-shaped tree: TRT_BIN_DIR is passed and the output is found', async (t) => {
  const { dir, base } = env(t);
  const tree = path.join(dir, 'trt70');
  cpSync(FIXTURE, tree, { recursive: true });
  const h = path.join(tree, 'include', 'NvInferVersion.h');
  writeFileSync(h, readFileSync(h, 'utf8').replace('NV_TENSORRT_MINOR 1', 'NV_TENSORRT_MINOR 0').replace('NV_TENSORRT_PATCH 3', 'NV_TENSORRT_PATCH 0'));
  // release/7.0's CMake files name the output directory TRT_BIN_DIR (7.1 renamed it TRT_OUT_DIR).
  for (const f of ['CMakeLists.txt', 'plugin/CMakeLists.txt']) writeFileSync(path.join(tree, f), readFileSync(path.join(tree, f), 'utf8').replaceAll('TRT_OUT_DIR', 'TRT_BIN_DIR'));
  const r = await runCli(['plugin', 'build', '--source', tree, '--ref', 'release/7.0', '--cuda-compiler', NVCC_DOUBLE, '--json', ...base], { timeoutMs: 120000 });
  t.equal(r.code, 0, r.stderr + r.stdout);
  const a = json<{ artifact: Artifact }>(r.stdout).artifact;
  t.ok(a.cmakeArgs.some((x) => x.startsWith('-DTRT_BIN_DIR=')), 'TRT_BIN_DIR for 7.0');
  t.notOk(a.cmakeArgs.some((x) => x.startsWith('-DTRT_OUT_DIR=')));
  t.equal(a.name, 'libnvinfer_plugin.so.7.0.0');
});

t.test('tool checks come first: CMAKE_TOO_OLD and CUDA_COMPILER_NOT_FOUND with the fix; nothing is built', async (t) => {
  const { base, state } = env(t);
  const old = await runCli(['plugin', 'build', '--source', FIXTURE, '--cmake', CMAKE_3_10, '--cuda-compiler', NVCC_DOUBLE, ...base]);
  t.equal(old.code, 1);
  t.match(old.stderr, /CMAKE_TOO_OLD: cmake 3\.10\.2 \(.*cmake-3\.10\.2\) is too old: this TensorRT OSS branch needs cmake ≥ 3\.13\./);
  t.match(old.stderr, /bootstrap --prefix=\$HOME\/install/, 'says how to get a newer cmake');
  // Real cmake of this machine vs release/11.x/main's 3.31 minimum.
  const real = /cmake version (\S+)/.exec(execFileSync('cmake', ['--version'], { encoding: 'utf8' }))?.[1] ?? '0';
  const [maj, min] = real.split('.').map(Number);
  if ((maj ?? 0) < 3 || ((maj ?? 0) === 3 && (min ?? 0) < 31)) {
    const main = await runCli(['plugin', 'build', '--source', FIXTURE, '--ref', 'main', '--cuda-compiler', NVCC_DOUBLE, ...base]);
    t.match(main.stderr, new RegExp(`CMAKE_TOO_OLD: cmake ${real.replace(/\./g, '\\.')} .* needs cmake ≥ 3\\.31`), 'real cmake too old for main');
  }
  // No nvcc: PATH without /usr/local/bin and /usr/local/cuda/bin, none under the root, none configured.
  const nonvcc = await runCli(['plugin', 'build', '--source', FIXTURE, ...base], { env: { PATH: '/usr/bin:/bin' } });
  t.equal(nonvcc.code, 1);
  t.match(nonvcc.stderr, /CUDA_COMPILER_NOT_FOUND: No CUDA compiler: nvcc is not on PATH and \/usr\/local\/cuda\/bin\/nvcc does not exist\. Put \/usr\/local\/cuda\/bin on PATH/);
  t.notOk(existsSync(path.join(state, 'builds', 'last.json')), 'nothing was built');
  const badArch = await runCli(['plugin', 'build', '--source', FIXTURE, '--gpu-archs', '“61”', ...base]);
  t.equal(badArch.code, 2, 'typographic quotes in --gpu-archs are a usage error');
});

t.test('a failing compile is PLUGIN_BUILD_FAILED with the log tail and the log path', async (t) => {
  const { dir, base } = env(t);
  const tree = path.join(dir, 'broken');
  cpSync(FIXTURE, tree, { recursive: true });
  writeFileSync(path.join(tree, 'plugin', 'resizeNearestPlugin', 'resizeNearestPlugin.c'), 'this is not C;\n');
  const r = await runCli(['plugin', 'build', '--source', tree, '--cuda-compiler', NVCC_DOUBLE, '--json', ...base], { timeoutMs: 120000 });
  t.equal(r.code, 1);
  const err = json<{ error: { code: string; message: string; hint: string } }>(r.stdout).error;
  t.equal(err.code, 'PLUGIN_BUILD_FAILED');
  t.match(err.message, /building nvinfer_plugin \(make -j\d+\) failed: .*resizeNearestPlugin\.c/s);
  t.match(err.hint, /build\.log/);
});

t.test('on a TTY the build shows one updating percent bar (real pseudo-terminal via script(1))', async (t) => {
  const { base } = env(t);
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, path.join(REPO_ROOT, 'agent', 'dist', 'main.js'), 'plugin', 'build', '--source', FIXTURE, '--cuda-compiler', NVCC_DOUBLE, ...base].map(quote).join(' ');
  const run = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 300000 });
  t.equal(run.status, 0, `plugin build on a pseudo-terminal: ${run.error?.message ?? ''}${run.stdout}${run.stderr}`);
  const out = run.stdout;
  t.match(out, /\r\[#+\.*\] +\d+% Building C object/, 'carriage-return bar with percent');
  t.match(out, /\r\[#{30}\] 100% /, 'the bar reaches 100%');
  t.notMatch(out, /plugin build: {1,3}\d+% /, 'no per-line percent log on a TTY');
  t.match(out, /built: .*libnvinfer_plugin\.so\.7\.1\.3/);
});

const systemCmake = /cmake version (\S+)/.exec(execFileSync('cmake', ['--version'], { encoding: 'utf8' }))?.[1] ?? '0';
const cmakeAtLeast = (v: string, min: string): boolean => {
  const [a = 0, b = 0] = v.split('.').map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
};

// One real build per source-tree shape after release/7.1 (which the tests above build). Each
// row: the board's TensorRT, the make target the tree's own CMake files define, and the
// creators the built library has or lacks.
const SHAPE_ROWS = [
  { shape: 'release-8.6', trt: '8.6.2', file: 'libnvinfer_plugin.so.8.6.1', target: 'nvinfer_plugin', cmake: '3.13', tao: true },
  { shape: 'release-10.3', trt: '10.3.0', file: 'libnvinfer_plugin.so.10.3.0', target: 'nvinfer_plugin', cmake: '3.13', tao: true },
  { shape: 'release-10.16', trt: '10.16.0', file: 'libnvinfer_plugin.so.10.16.0', target: 'nvinfer_plugin', cmake: '3.13', tao: true },
  { shape: 'release-11.0', trt: '11.0.0', file: 'libnvinfer_plugin.so.11.0.0', target: 'nvinfer_plugin', cmake: '3.31', tao: false },
  { shape: 'main', trt: '11.1.0', file: 'libnvinfer_plugin.so.11.1.0', target: 'tensorrt_plugins', cmake: '3.31', tao: false },
];

for (const row of SHAPE_ROWS) {
  const cmake = cmakeAtLeast(systemCmake, row.cmake) ? 'cmake' : row.cmake === '3.31' ? CMAKE_331 : undefined;
  t.test(`${row.shape}-shaped tree on TensorRT ${row.trt}: make ${row.target}, only the -D variables the tree reads`, { skip: cmake ? false : `needs cmake ≥ ${row.cmake} (system has ${systemCmake}); set JETSON_TEST_CMAKE` }, async (t) => {
    const dir = t.testdir({ root: {}, state: {} });
    const b = makeBoardRoot(path.join(dir, 'root'), { tensorrt: row.trt });
    const base = ['--root', b.root, '--state-dir', path.join(dir, 'state')];
    const r = await runCli(['plugin', 'build', '--source', path.join(SHAPES, row.shape), '--cuda-compiler', NVCC_DOUBLE, '--cmake', cmake ?? 'cmake', '--json', ...base], { timeoutMs: 120000 });
    t.equal(r.code, 0, r.stderr + r.stdout);
    const a = json<{ artifact: Artifact & { pluginTarget: string; missingCreators: string[]; warnings: string[]; makeArgs: string[] } }>(r.stdout).artifact;
    t.equal(a.name, row.file, 'TRT_VERSION of the tree');
    t.equal(a.pluginTarget, row.target);
    t.equal(a.makeArgs[0], row.target);
    const log = readFileSync(a.buildLog, 'utf8');
    t.match(log, new RegExp(`Built target ${row.target}\\n`), `make built ${row.target}`);
    t.notMatch(log, /Manually-specified variables were not used/, 'cmake read every -D the plan passed');
    t.equal(a.cmakeArgs.some((x) => x.startsWith('-DCUDA_VERSION=')), row.cmake === '3.13', 'CUDA_VERSION only where the tree reads it');
    t.equal(a.cmakeArgs.some((x) => x.startsWith('-DGPU_ARCHS=')), row.cmake === '3.13', 'GPU_ARCHS up to 10.x, CMAKE_CUDA_ARCHITECTURES after');
    const lib = readFileSync(a.file);
    t.equal(lib.includes('BatchTilePlugin_TRT\0'), row.tao, `BatchTilePlugin_TRT ${row.tao ? 'in' : 'absent from'} the library`);
    t.ok(lib.includes('ResizeNearest_TRT\0'));
    if (!row.tao) {
      t.same(a.missingCreators, ['BatchTilePlugin_TRT', 'BatchedNMS_TRT', 'BatchedNMSDynamic_TRT']);
      t.match(a.warnings.join(' '), /re-export the model with EfficientNMS/);
      t.equal(r.stderr, '', '--json: the warning is in the result, stderr stays quiet');
    } else t.same(a.warnings, []);
  });
}

t.test('the tree decides the cmake minimum, not the ref: a main-shaped tree under --ref release/10.3 needs cmake 3.31', { skip: cmakeAtLeast(systemCmake, '3.31') ? 'system cmake is already ≥ 3.31' : false }, async (t) => {
  const { base } = env(t);
  const r = await runCli(['plugin', 'build', '--source', path.join(SHAPES, 'main'), '--ref', 'release/10.3', '--cuda-compiler', NVCC_DOUBLE, ...base]);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`CMAKE_TOO_OLD: cmake ${systemCmake.replace(/\./g, '\\.')} .* needs cmake ≥ 3\\.31`));
});

t.test('CUDA of the board ≠ the nvcc: the build says so', async (t) => {
  const { b, base } = env(t);
  mkdirSync(path.join(b.root, 'usr/local/cuda'), { recursive: true });
  writeFileSync(path.join(b.root, 'usr/local/cuda/version.json'), JSON.stringify({ cuda: { name: 'CUDA SDK', version: '11.4.19' }, cuda_nvcc: { name: 'CUDA NVCC', version: '11.4.315' } }));
  const r = await runCli(['plugin', 'build', '--source', FIXTURE, '--cuda-compiler', NVCC_DOUBLE, ...base], { timeoutMs: 120000 });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /warning: The board reports CUDA 11\.4 but .*nvcc-double is CUDA 10\.2: the plugin is compiled and linked with CUDA 10\.2 while -DCUDA_VERSION=11\.4 is passed/);
  t.match(r.stdout, /warning: The board reports CUDA 11\.4/, 'and the result lists it again');
});

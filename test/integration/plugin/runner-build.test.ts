import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../../agent/src/core/log.js';
import type { Servable } from '../../../agent/src/core/contracts/model.js';
import { defaultEngineFactory } from '../../../agent/src/inference/engine-factory.js';
import { generatedServable } from '../../../agent/src/inference/demo-model.js';
import { currentRunner } from '../../../agent/src/plugin/runner-artifact.js';
import { PACKAGED_RUNNER_SOURCE } from '../../../agent/src/plugin/runner-build.js';
import { sha256File } from '../../../agent/src/platform/fs.js';
import { runCli } from '../../helpers/cli.js';
import { makeTensorrtStandinRoot } from '../../helpers/trt-standin.js';

// REAL cmake configure + make + g++ of agent/native/trt-runner/main.cpp, against the TEST DOUBLE
// TensorRT/CUDA headers and stub libraries of test/fixtures/trt-standin. This proves the
// command, the cmake invocation, the per-major #if branches compiling against headers shaped
// like each TensorRT generation, linking, and the runner's fatal-error path. It does not prove
// the real TensorRT API: only a Jetson does (docs/hardware-validation.md).

interface Artifact {
  id: string;
  file: string;
  sha256: string;
  tensorrt: string;
  api: string;
  tensorrtInclude: string;
  nvinfer: string;
  nvinferPlugin: string;
  cudaRoot: string;
  cmakeArgs: string[];
  buildLog: string;
  builtAt: string;
}
const json = <T>(s: string): T => JSON.parse(s) as T;

function setup(test: { testdir: typeof t.testdir }, version: string, parts?: { headers?: boolean; libs?: boolean }) {
  const dir = test.testdir({ root: {}, state: {} });
  const s = makeTensorrtStandinRoot(path.join(dir, 'root'), version, parts);
  const state = path.join(dir, 'state');
  return { ...s, state, base: ['--root', s.root, '--state-dir', state, '--cuda-compiler', s.nvcc] };
}

/** Start the built runner on a file that is no engine: it must answer with a fatal ERROR frame. */
function runOnBogusEngine(file: string, dir: string) {
  const r = spawnSync(file, ['--engine', path.join(dir, 'cmake_install.cmake')], { input: '', timeout: 10000 });
  const len = r.stdout.length >= 5 ? r.stdout.readUInt32LE(0) : -1;
  return { status: r.status, type: r.stdout[4], id: r.stdout.length >= 9 ? r.stdout.readUInt32LE(5) : -1, message: r.stdout.subarray(9, 5 + len).toString(), stderr: r.stderr.toString() };
}

t.test('without TensorRT: RUNNER_TENSORRT_MISSING says where it looked and what to do; nothing is written', async (t) => {
  const dir = t.testdir({ root: {}, state: {} });
  const r = await runCli(['runner', 'build', '--root', path.join(dir, 'root'), '--state-dir', path.join(dir, 'state'), '--json']);
  t.equal(r.code, 1);
  const err = json<{ error: { code: string; message: string; hint: string } }>(r.stdout).error;
  t.equal(err.code, 'RUNNER_TENSORRT_MISSING');
  t.match(err.message, /NvInfer\.h.*\/usr\/include\/aarch64-linux-gnu/);
  t.match(err.message, /libnvinfer\.so in \/usr\/lib\/aarch64-linux-gnu/);
  t.match(err.hint, /Jetson.*nvidia-tensorrt-dev/);
  t.same(readdirSync(path.join(dir, 'state')), [], 'state dir untouched');
});

t.test('runtime libraries without the dev headers: the error names the missing headers', async (t) => {
  const s = setup(t, '8.5.2', { headers: false });
  const r = await runCli(['runner', 'build', ...s.base]);
  t.equal(r.code, 1);
  t.match(r.stderr, /RUNNER_TENSORRT_MISSING: .*no NvInfer\.h \+ NvInferPlugin\.h \+ NvInferVersion\.h/);
  t.notMatch(r.stderr, /no libnvinfer\.so/, 'the libraries were found');
  t.same(readdirSync(s.state), []);
});

for (const [version, api] of [
  ['7.1.3', 'bindings-destroy'],
  ['10.3.0', 'named-tensors'],
] as const) {
  t.test(`TensorRT ${version} (stand-in): main.cpp compiles and links with the ${api} branch`, async (t) => {
    const s = setup(t, version);
    const r = await runCli(['runner', 'build', '--json', ...s.base], { timeoutMs: 300000 });
    t.equal(r.code, 0, r.stderr + r.stdout);
    const a = json<{ artifact: Artifact }>(r.stdout).artifact;
    t.equal(a.tensorrt, version);
    t.equal(a.api, api);
    const run = runOnBogusEngine(a.file, path.join(path.dirname(a.file), 'build'));
    t.equal(run.type, 4, 'ERROR frame');
    t.equal(run.id, 0, 'fatal');
    t.match(run.message, /deserializeCudaEngine failed/);
  });
}

t.test('TensorRT 8.5.2 (stand-in): built, recorded, cache hit, --force, and the tensorrt backend spawns it', async (t) => {
  const s = setup(t, '8.5.2');
  const r = await runCli(['runner', 'build', '--json', ...s.base], { timeoutMs: 300000 });
  t.equal(r.code, 0, r.stderr + r.stdout);
  t.equal(r.stderr, '', '--json: stderr stays quiet');
  const out = json<{ cached: boolean; artifact: Artifact }>(r.stdout);
  t.equal(out.cached, false);
  const a = out.artifact;
  t.equal(a.tensorrt, '8.5.2', 'version from NvInferVersion.h');
  t.equal(a.api, 'named-tensors', '8.5 is the first release with the named-tensor API');
  t.equal(a.file, path.join(s.state, 'builds', 'trt-runner', a.id, 'trt-runner'), 'binary kept under the state dir');
  t.equal(await sha256File(a.file), a.sha256);
  // Board-absolute paths, found under --root.
  t.equal(a.tensorrtInclude, '/usr/include/aarch64-linux-gnu');
  t.equal(a.nvinfer, '/usr/lib/aarch64-linux-gnu/libnvinfer.so');
  t.equal(a.cudaRoot, '/usr/local/cuda');
  t.ok(a.cmakeArgs.includes(`-DTENSORRT_INCLUDE_DIR=${path.join(s.root, 'usr/include/aarch64-linux-gnu')}`), 'cmake got the --root headers, not the host /usr');
  t.match(readFileSync(a.buildLog, 'utf8'), /Built target trt-runner/);

  const run = runOnBogusEngine(a.file, path.join(path.dirname(a.file), 'build'));
  t.equal(run.status, 1);
  t.match(run.stderr, /initLibNvInferPlugins called/, 'plugins are initialised before deserialising (agent/native/trt-runner/main.cpp: BatchedNMS lives in libnvinfer_plugin)');
  t.match(run.message, /deserializeCudaEngine failed/);

  const logMtime = statSync(a.buildLog).mtimeMs;
  const again = await runCli(['runner', 'build', '--json', ...s.base]);
  t.equal(again.code, 0, again.stderr);
  const second = json<{ cached: boolean; artifact: Artifact }>(again.stdout);
  t.equal(second.cached, true, 'identical inputs: cache hit');
  t.equal(second.artifact.sha256, a.sha256);
  t.equal(statSync(a.buildLog).mtimeMs, logMtime, 'no cmake/make ran');

  const forced = await runCli(['runner', 'build', '--force', ...s.base], { timeoutMs: 300000 });
  t.equal(forced.code, 0, forced.stderr);
  t.match(forced.stdout, /^built: .*trt-runner\n/);
  t.match(forced.stdout, /tensorrt {2}8\.5\.2 \(named-tensors API/);
  t.match(forced.stderr, /runner build: configuring \(cmake\)/);
  t.not(statSync(a.buildLog).mtimeMs, logMtime, '--force ran cmake and make again');

  // The daemon's tensorrt backend takes the recorded runner when inference.trtRunner is empty.
  const rec = await currentRunner(s.state);
  t.equal(rec?.file, a.file);
  const onnx = generatedServable({ name: 'm', version: '1', height: 32, width: 32, seed: 1, maxBatch: 1, extraConvs: 0 }).servable;
  const servable: Servable = { kind: 'tensorrt', enginePath: a.buildLog, model: { ...onnx.model, name: 'trt', version: '1' }, packageSha256: 'x' };
  const withBuild = defaultEngineFactory({ workers: 1, intraOpThreads: 1, maxBatch: 1, log: silentLogger, trtRunner: '', findTrtRunner: async () => (await currentRunner(s.state))?.file });
  const built = await withBuild(servable);
  t.teardown(() => built.engine.unload());
  await t.rejects(built.engine.load(), { code: 'ENGINE_FAILED', message: /trt-runner \[DESERIALIZE_FAILED\]: deserializeCudaEngine failed/ }, 'the built runner was spawned on the engine');
  // A failing build (a source tree whose main.cpp does not compile) leaves the recorded runner current.
  const broken = path.join(path.dirname(s.state), 'broken-src');
  cpSync(PACKAGED_RUNNER_SOURCE, broken, { recursive: true });
  writeFileSync(path.join(broken, 'main.cpp'), 'int main() { return missing_symbol; }\n');
  const failed = await runCli(['runner', 'build', '--json', '--source', broken, ...s.base], { timeoutMs: 300000 });
  t.equal(failed.code, 1);
  const ferr = json<{ error: { code: string; message: string; hint: string } }>(failed.stdout).error;
  t.equal(ferr.code, 'RUNNER_BUILD_FAILED');
  t.match(ferr.message, /missing_symbol/, 'the compiler error is in the message');
  t.match(ferr.hint, /previously built runner .* still the one in use/);
  t.equal((await currentRunner(s.state))?.file, a.file, 'the earlier runner is still current');

  const none = defaultEngineFactory({ workers: 1, intraOpThreads: 1, maxBatch: 1, log: silentLogger, trtRunner: '', findTrtRunner: async () => undefined });
  await t.rejects(none(servable), { code: 'ENGINE_FAILED', message: /no trt-runner is built or configured/ });
});

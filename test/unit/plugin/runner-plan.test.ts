import t from 'tap';
import { planRunnerBuild, runnerApiFor, type RunnerPlan, type TensorrtInstall } from '../../../agent/src/plugin/runner-plan.js';

const trt = (version: string): TensorrtInstall => ({
  version,
  major: Number(version.split('.')[0]),
  includeDir: '/r/usr/include/aarch64-linux-gnu',
  nvinfer: `/r/usr/lib/aarch64-linux-gnu/libnvinfer.so`,
  nvinferPlugin: `/r/usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so`,
});

const input = (version: string) => ({
  tensorrt: trt(version),
  cudaRoot: '/r/usr/local/cuda-11.4',
  cxxCompiler: '/usr/bin/g++',
  sourceDir: '/pkg/agent/native/trt-runner',
  buildDir: '/state/builds/trt-runner/abc/build',
  jobs: 2,
});

// One row per TensorRT generation JetPack ships: JP4.4 7.1.3, JP4.6 8.2.1, JP5.0 8.4.1,
// JP5.1 8.5.2, JP6 8.6.2, JP6.1+ 10.3.0; main.cpp's #if on NvInferVersion.h follows the same
// split (the named-tensor API from 8.5 on).
const table = [
  { version: '7.1.3', api: 'bindings-destroy' },
  { version: '8.2.1', api: 'bindings' },
  { version: '8.4.1', api: 'bindings' },
  { version: '8.5.2', api: 'named-tensors' },
  { version: '8.6.2', api: 'named-tensors' },
  { version: '10.3.0', api: 'named-tensors' },
] as const;

for (const row of table) {
  t.test(`TensorRT ${row.version} → ${row.api}`, async (t) => {
    const plan = planRunnerBuild(input(row.version));
    t.notOk('kind' in plan, 'supported');
    const p = plan as RunnerPlan;
    t.equal(p.api, row.api);
    t.same(p.cmakeArgs.slice(0, 4), ['-S', '/pkg/agent/native/trt-runner', '-B', '/state/builds/trt-runner/abc/build']);
    // Every TensorRT/CUDA location is preset, so cmake never falls back to the build host's /usr.
    t.ok(p.cmakeArgs.includes('-DTENSORRT_INCLUDE_DIR=/r/usr/include/aarch64-linux-gnu'));
    t.ok(p.cmakeArgs.includes('-DNVINFER=/r/usr/lib/aarch64-linux-gnu/libnvinfer.so'));
    t.ok(p.cmakeArgs.includes('-DNVINFER_PLUGIN=/r/usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so'));
    t.ok(p.cmakeArgs.includes('-DCUDA_TOOLKIT_ROOT_DIR=/r/usr/local/cuda-11.4'));
    t.ok(p.cmakeArgs.includes('-DCMAKE_CXX_COMPILER=/usr/bin/g++'));
    t.ok(p.cmakeArgs.includes('-DCMAKE_BUILD_TYPE=Release'));
    t.same(p.makeArgs, ['trt-runner', '-j2']);
    t.equal(p.output, '/state/builds/trt-runner/abc/build/trt-runner');
  });
}

t.test('TensorRT older than 7 is refused with the reason', async (t) => {
  const plan = planRunnerBuild(input('6.0.1'));
  t.ok('kind' in plan);
  if ('kind' in plan) {
    t.equal(plan.kind, 'unsupported-tensorrt');
    t.match(plan.message, /TensorRT 6\.0\.1 is too old/);
  }
  t.equal(runnerApiFor(5), undefined);
});

t.test('jobs is at least 1', async (t) => {
  const plan = planRunnerBuild({ ...input('8.5.2'), jobs: 0 }) as RunnerPlan;
  t.same(plan.makeArgs, ['trt-runner', '-j1']);
});

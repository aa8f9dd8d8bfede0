import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startAgent, type AgentProcess } from '../../helpers/agent-process.js';
import { cleanEnv, REPO_ROOT, runCli } from '../../helpers/cli.js';
import { makeBoardRoot } from '../../helpers/plugin-board.js';
import { opsRig, writeAgentConfig } from '../../helpers/request-rig.js';

/**
 * `plugin-rebuild` end to end: a real agent process (unprivileged, `--root` = a Jetson Nano
 * fixture tree) gets a signed request over a real mosquitto, builds the TensorRT-OSS-shaped
 * fixture for real (cmake + make + cc; nvcc is the --version-only double, so this proves the
 * invocation, not a CUDA compile) and hands the install to the root helper through
 * plugin/request.json. The helper is the REAL helper entry the systemd unit runs
 * (`node agent/dist/bin/jetson-agent-plugin-helper.js`), started here the way
 * jetson-agent-plugin.path starts it (when request.json appears), as this user against the
 * fixture root. Then the same request with no helper watching: PLUGIN_HELPER_NOT_RUNNING.
 */
const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'trt-oss', 'release-7.1');
const NVCC_DOUBLE = path.join(REPO_ROOT, 'test', 'fixtures', 'bin', 'nvcc-double');
const HELPER_JS = path.join(REPO_ROOT, 'agent', 'dist', 'bin', 'jetson-agent-plugin-helper.js');
const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

interface RebuildData {
  build: { name: string; sha256: string; branch: string; gpuArchs: number[]; cached: boolean };
  install: { requestId: string; output: { sha256?: string } };
}

t.test('plugin-rebuild: build in the agent, install through the root helper; no helper → coded error, nothing left behind', async (t) => {
  const dir = t.testdir({ root: {}, state: {}, run: {} });
  const board = makeBoardRoot(path.join(dir, 'root'));
  const state = path.join(dir, 'state');
  const holder: { agent?: AgentProcess } = {};
  const rig = await opsRig(t, () => holder.agent?.log() ?? '');
  writeAgentConfig(path.join(dir, 'config.yaml'), rig, {
    inference: { enabled: false },
    // The emulated path unit starts a node process: under a loaded CI box (tap runs 2 jobs,
    // some compiling C++) that alone can take seconds, so the pickup window is not 2 s.
    plugin: { cudaCompiler: NVCC_DOUBLE, helperPickupTimeoutSec: 8, helperTimeoutSec: 60 },
  });
  const a = startAgent(['--config', path.join(dir, 'config.yaml'), '--state-dir', state, '--root', board.root]);
  holder.agent = a;
  t.teardown(() => a.kill());
  await rig.watch.waitFor((m) => m.topic.endsWith('/status') && m.json<{ state: string }>().state === 'online');
  const stock = sha(board.hostTarget);

  // jetson-agent-plugin.path: PathExists=<state>/plugin/request.json → start the oneshot.
  const helperRuns: string[] = [];
  let watching = true;
  const pathUnit = (async () => {
    while (watching) {
      if (existsSync(path.join(state, 'plugin', 'request.json'))) {
        const r = await promisify(execFile)(process.execPath, [HELPER_JS], {
          env: { ...cleanEnv(), JETSON_AGENT_STATE_DIR: state, RUNTIME_DIRECTORY: path.join(dir, 'run'), JETSON_AGENT_HOST_ROOT: board.root },
        });
        helperRuns.push(r.stdout.trim());
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();

  const res = await rig.request('plugin-rebuild', { source: FIXTURE }, 300_000);
  watching = false;
  await pathUnit;
  t.equal(res.status, 'ok', JSON.stringify(res));
  const data = res.data as RebuildData;
  t.equal(data.build.name, 'libnvinfer_plugin.so.7.1.3', 'built from the fixture tree');
  t.equal(data.build.branch, 'release/7.1');
  t.same(data.build.gpuArchs, [53], 'GPU_ARCHS of the detected Nano');
  t.equal(helperRuns.length, 1, 'the helper ran once');
  t.match(helperRuns[0], new RegExp(`^jetson-agent-plugin-helper: install ${data.install.requestId}: ok$`));
  t.equal(data.install.output.sha256, data.build.sha256, "the helper's `plugin install --json` output is in the response");
  t.not(data.build.sha256, stock);
  t.equal(sha(board.hostTarget), data.build.sha256, 'the system library in the fixture root is now the build');
  t.same(readdirSync(path.join(state, 'plugin')).filter((n) => /^request|^result/.test(n)), [], 'request and result files consumed');
  const st = await runCli(['plugin', 'status', '--json', '--root', board.root, '--state-dir', state]);
  t.equal((JSON.parse(st.stdout) as { origin: string }).origin, 'custom', 'plugin status: custom build installed');

  // No helper watching any more (units not installed): a coded answer within the pickup timeout.
  const t0 = Date.now();
  const none = await rig.request('plugin-rebuild', { source: FIXTURE }, 120_000);
  t.equal(none.status, 'error');
  t.equal(none.error?.code, 'PLUGIN_HELPER_NOT_RUNNING');
  t.match(none.error?.message, /No plugin helper took the install request within 8 s/);
  t.match(none.error?.hint, /systemctl enable --now jetson-agent-plugin\.path.*sudo jetson-agent plugin install --last-build/, 'says what to run');
  t.ok(Date.now() - t0 < 60_000, 'answered after the pickup timeout, not the result timeout');
  t.same(readdirSync(path.join(state, 'plugin')).filter((n) => /^request|^result/.test(n)), [], 'the request was withdrawn: nothing for a later helper run to install');
  t.equal(sha(board.hostTarget), data.build.sha256, 'library unchanged');
  t.match(a.log(), /"step":"cache hit: build/, 'the second request was a build cache hit');

  const bad = await rig.request('plugin-rebuild', { source: FIXTURE, cmake: '/tmp/x' });
  t.equal(bad.error?.code, 'BAD_REQUEST', 'unknown params are refused before anything runs');
});

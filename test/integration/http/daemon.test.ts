import t from 'tap';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { REPO_ROOT, runCli } from '../../helpers/cli.js';
import { startAgent } from '../../helpers/agent-process.js';
import { noisyJpeg } from '../../helpers/inference.js';
import { pinnedBunVersion, testRuntime } from '../../helpers/runtime.js';

t.test('`jetson-agent run` serves the demo model out of the box (/v1/detect and KServe); models activate hot-swaps it; SIGTERM exits 0', async (t) => {
  const dir = t.testdir({ state: {} });
  const agent = startAgent(['--state-dir', path.join(dir, 'state')]);
  t.teardown(() => agent.kill());
  const log = agent.log;
  const port = await agent.port();
  const runtime = testRuntime() === 'bun' ? `bun ${pinnedBunVersion()} ` : `node ${process.versions.node}`;
  t.ok(log().includes(`"runtime":"${runtime}`), `the daemon runs on ${runtime} (its start log says so)`);
  await agent.waitLog(/"msg":"model activated"/);
  // Logged once the start activation settles, a moment after "model activated" (a later write).
  t.ok(await agent.waitLog(/serving the generated demo model: its detections are meaningless/, 10_000), 'the demo model is announced as meaningless');
  const base = `http://127.0.0.1:${port}`;
  t.equal((await fetch(`${base}/readyz`)).status, 200);
  const res = await fetch(`${base}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: await noisyJpeg(1248, 384) });
  t.equal(res.status, 200);
  t.match(await res.json(), { model: { name: 'demo-yolov3', version: 'generated-1' }, image: { width: 1248, height: 384 }, detections: Array });

  // KServe v2 on the same process: metadata, then a binary-extension infer of one preprocessed tensor.
  const meta = (await (await fetch(`${base}/v2/models/demo-yolov3`)).json()) as { platform: string; inputs: { name: string; shape: number[] }[] };
  t.match(meta, { platform: 'onnxruntime_onnx', inputs: [{ name: 'Input', shape: [-1, 3, 384, 1248] }] });
  const tensor = new Float32Array(3 * 384 * 1248).map((_, i) => ((i * 7) % 255) - 120);
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'Input', shape: [1, 3, 384, 1248], datatype: 'FP32', parameters: { binary_data_size: tensor.byteLength } }] }));
  const infer = await fetch(`${base}/v2/models/demo-yolov3/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, Buffer.from(tensor.buffer)]),
  });
  t.equal(infer.status, 200);
  const outputs = ((await infer.json()) as { outputs: { name: string; shape: number[]; data: number[] }[] }).outputs;
  t.same(
    outputs.map((o) => [o.name, o.shape]),
    [
      ['BatchedNMS', [1, 1]],
      ['BatchedNMS_1', [1, 200, 4]],
      ['BatchedNMS_2', [1, 200]],
      ['BatchedNMS_3', [1, 200]],
    ],
  );
  const count = outputs[0]?.data[0] ?? -1;
  t.ok(count >= 0 && count <= 200, `BatchedNMS count ${count} within 0..200`);

  const act = await runCli(['models', 'activate', 'demo-yolov3@generated-1', '--json', '--state-dir', path.join(dir, 'state')], { env: { JETSON_AGENT_INFERENCE_PORT: String(port) } });
  t.equal(act.code, 0, act.stderr);
  t.match(JSON.parse(act.stdout), { active: { name: 'demo-yolov3' }, previous: { name: 'demo-yolov3' } });
  const bad = await runCli(['models', 'activate', 'nope@1', '--json', '--state-dir', path.join(dir, 'state')], { env: { JETSON_AGENT_INFERENCE_PORT: String(port) } });
  t.equal(bad.code, 1);
  t.equal((JSON.parse(bad.stdout) as { error: { code: string } }).error.code, 'MODEL_NOT_FOUND');
  const usage = await runCli(['models', 'activate', 'no-version']);
  t.equal(usage.code, 2);

  agent.child.kill('SIGTERM');
  t.equal(await agent.exited, 0, log());
  t.match(log(), /"msg":"stopped cleanly"/);
});

t.test('`jetson-agent detect IMAGE` runs the serving model on the image through the daemon; no daemon: a coded error, not a usage error', async (t) => {
  const dir = t.testdir({ state: {} });
  const image = path.join(REPO_ROOT, 'samples', 'demo.jpg');
  const none = await runCli(['detect', image, '--state-dir', path.join(dir, 'state')], { env: { JETSON_AGENT_INFERENCE_PORT: '9' } });
  t.equal(none.code, 1, 'not a usage error (exit 2)');
  t.match(none.stderr, /^jetson-agent: MODEL_NOT_READY: The daemon's inference endpoint at http:\/\/127\.0\.0\.1:9\/v1\/detect is not reachable\. Start the daemon/m);
  t.match((await runCli(['detect', '--threshold', '0.3'])).stderr, /USAGE: --threshold applies to images/);

  const agent = startAgent(['--state-dir', path.join(dir, 'state')]);
  t.teardown(() => agent.kill());
  const port = await agent.port();
  await agent.waitLog(/"msg":"model activated"/);
  const env = { JETSON_AGENT_INFERENCE_PORT: String(port) };
  const api = (await (await fetch(`http://127.0.0.1:${port}/v1/detect?threshold=0.3`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: readFileSync(image) })).json()) as { detections: { label: string; score: number }[] };
  const json = await runCli(['detect', image, '--threshold', '0.3', '--json', '--state-dir', path.join(dir, 'state')], { env });
  t.equal(json.code, 0, json.stderr);
  const got = JSON.parse(json.stdout) as { model: { name: string }; image: { width: number }; detections: unknown[] };
  t.match(got, { model: { name: 'demo-yolov3' }, image: { width: 1280, height: 720 } });
  t.same(got.detections, api.detections, 'the same answer as the API');
  const human = await runCli(['detect', image, image, '--threshold', '0.3', '--state-dir', path.join(dir, 'state')], { env });
  t.equal(human.code, 0, human.stderr);
  t.equal(human.stdout.match(/^demo\.jpg {2}1280×720 {2}demo-yolov3@generated-1 {2}\d+ detections? {2}[\d.]+ ms$/gm)?.length, 2, 'one header per image');
  t.match(human.stdout, new RegExp(`^ {2}${api.detections[0]?.label ?? '?'} +${api.detections[0]?.score.toFixed(3) ?? '?'} +\\d+ \\d+ \\d+ \\d+$`, 'm'));
  const bad = await runCli(['detect', path.join(REPO_ROOT, 'package.json'), '--state-dir', path.join(dir, 'state')], { env });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /IMAGE_UNDECODABLE: .*package\.json/);
  agent.child.kill('SIGTERM');
  t.equal(await agent.exited, 0);
});

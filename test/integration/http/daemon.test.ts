import t from 'tap';
import path from 'node:path';
import { runCli } from '../../helpers/cli.js';
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

import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { FLEET_JS, runCli } from '../../helpers/cli.js';
import { startAgent } from '../../helpers/agent-process.js';
import { noisyJpeg } from '../../helpers/inference.js';
import { generateYoloV3Onnx } from '../../../agent/src/models/onnx/generate.js';

/**
 * The whole off-Jetson model path with real pieces: a generated TAO-YOLOv3-shaped ONNX (with
 * the TensorRT-only BatchedNMSDynamic_TRT node) → `jetson-fleet package create` → `jetson-agent
 * models add` → `models activate` on a running daemon → store lookup → conversion
 * (prepareForOnnxRuntime cuts the NMS node) → hot swap → `/v1/detect` answers with the new model.
 */
t.test('a packaged ONNX model goes from the store to HTTP answers through conversion and hot swap', async (t) => {
  const dir = t.testdir({ state: {} });
  const state = path.join(dir, 'state');
  const onnx = path.join(dir, 'small.onnx');
  writeFileSync(onnx, generateYoloV3Onnx({ height: 96, width: 160, classes: 2, seed: 7, scoreThreshold: 0.001 }));
  const pkg = path.join(dir, 'small-2.0.0.tar');
  const created = await runCli(
    ['package', 'create', '--model', onnx, '--name', 'small', '--version', '2.0.0', '--network', 'yolov3', '--classes', 'person,car', '--input', '3,96,160', '--precision', 'fp32', '--out', pkg, '--json'],
    { script: FLEET_JS },
  );
  t.equal(created.code, 0, created.stderr + created.stdout);
  const added = await runCli(['models', 'add', pkg, '--state-dir', state, '--json']);
  t.equal(added.code, 0, added.stderr + added.stdout);

  const agent = startAgent(['--state-dir', state]);
  t.teardown(() => agent.kill());
  const port = await agent.port();
  await agent.waitLog(/"msg":"model activated"/);

  const act = await runCli(['models', 'activate', 'small@2.0.0', '--json', '--state-dir', state], { env: { JETSON_AGENT_INFERENCE_PORT: String(port) } });
  t.equal(act.code, 0, act.stderr + act.stdout);
  t.match(JSON.parse(act.stdout), { active: { name: 'small', version: '2.0.0', backend: 'onnxruntime' }, previous: { name: 'demo-yolov3' } });

  const res = await fetch(`http://127.0.0.1:${port}/v1/detect?threshold=0`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: await noisyJpeg(640, 480) });
  t.equal(res.status, 200);
  const body = (await res.json()) as { model: { name: string; version: string }; image: { width: number; height: number }; detections: { label: string; box: { x1: number; x2: number; y2: number } }[] };
  t.same(body.model, { name: 'small', version: '2.0.0' }, 'the new model answers');
  t.same(body.image, { width: 640, height: 480 });
  t.ok(body.detections.length > 0, 'threshold 0 keeps the (meaningless) detections of the random weights');
  for (const d of body.detections) {
    t.ok(['person', 'car'].includes(d.label), `label ${d.label} comes from the package's classes`);
    t.ok(d.box.x1 >= 0 && d.box.x2 <= 639 && d.box.y2 <= 479, 'boxes are in original-image pixels, clipped');
  }
  const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { active: { name: string } };
  t.equal(models.active.name, 'small');

  agent.child.kill('SIGTERM');
  t.equal(await agent.exited, 0, agent.log());
});

import t from 'tap';
import path from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { startAgent } from '../../helpers/agent-process.js';
import { noisyJpeg } from '../../helpers/inference.js';

t.test('`jetson-agent run` serves the demo model out of the box; models activate hot-swaps it; SIGTERM exits 0', async (t) => {
  const dir = t.testdir({ state: {} });
  const agent = startAgent(['--state-dir', path.join(dir, 'state')]);
  t.teardown(() => agent.kill());
  const log = agent.log;
  const port = await agent.port();
  await agent.waitLog(/"msg":"model activated"/);
  // Logged once the start activation settles, a moment after "model activated" (a later write).
  t.ok(await agent.waitLog(/serving the generated demo model: its detections are meaningless/, 10_000), 'the demo model is announced as meaningless');
  const base = `http://127.0.0.1:${port}`;
  t.equal((await fetch(`${base}/readyz`)).status, 200);
  const res = await fetch(`${base}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: await noisyJpeg(1248, 384) });
  t.equal(res.status, 200);
  t.match(await res.json(), { model: { name: 'demo-yolov3', version: 'generated-1' }, image: { width: 1248, height: 384 }, detections: Array });

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

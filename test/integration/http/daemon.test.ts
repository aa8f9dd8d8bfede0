import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { cleanEnv, MAIN_JS, runCli } from '../../helpers/cli.js';
import { noisyJpeg } from '../../helpers/inference.js';

t.test('`jetson-agent run` serves the demo model out of the box; models activate hot-swaps it; SIGTERM exits 0', async (t) => {
  const dir = t.testdir({ state: {} });
  const env = { ...cleanEnv(), JETSON_AGENT_INFERENCE_PORT: '0', JETSON_AGENT_MQTT_EMBEDDED_PORT: '0', JETSON_AGENT_INFERENCE_INTRA_OP_THREADS: '1' };
  const child = spawn(process.execPath, [MAIN_JS, 'run', '--state-dir', path.join(dir, 'state')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const waitFor = async (re: RegExp): Promise<RegExpExecArray> => {
    for (let i = 0; i < 600; i++) {
      const m = re.exec(log);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timeout waiting for ${String(re)}:\n${log}`);
  };
  const port = Number((await waitFor(/"port":(\d+)[^\n]*inference endpoint listening/))[1]);
  await waitFor(/"msg":"model activated"/);
  t.match(log, /serving the generated demo model: its detections are meaningless/);
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

  child.kill('SIGTERM');
  t.equal(await exited, 0, log);
  t.match(log, /"msg":"stopped cleanly"/);
});

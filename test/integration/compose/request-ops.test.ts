import t from 'tap';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { startAgent, type AgentProcess } from '../../helpers/agent-process.js';
import { noisyJpeg } from '../../helpers/inference.js';
import { PREFIX } from '../../helpers/mosquitto.js';
import { DEVICE, opsRig, writeAgentConfig } from '../../helpers/request-rig.js';
import { signEnvelope } from '../../../agent/src/core/envelope.js';
import type { DeploymentManifest } from '../../../agent/src/core/contracts/manifest.js';

/**
 * `restart-inference` against a real mosquitto and a real agent process serving the demo model
 * with ONNX Runtime, while a client keeps posting images. swapMode is the default `beside`:
 * the fresh engine loads next to the old one, so NO request may fail (docs/mqtt.md).
 */
t.test('restart-inference: fresh engine while a client posts images, zero failed requests; BUSY during a rollout', async (t) => {
  const dir = t.testdir({ state: {} });
  const holder: { agent?: AgentProcess } = {};
  const rig = await opsRig(t, () => holder.agent?.log() ?? '');
  writeAgentConfig(path.join(dir, 'config.yaml'), rig, {});
  const a = startAgent(['--config', path.join(dir, 'config.yaml'), '--state-dir', path.join(dir, 'state')]);
  holder.agent = a;
  t.teardown(() => a.kill());
  const port = await a.port();
  await a.waitLog(/"msg":"model activated"/);
  await rig.watch.waitFor((m) => m.topic.endsWith('/status') && m.json<{ state: string }>().state === 'online');
  const activations = (): number => a.log().split('"msg":"model activated"').length - 1;
  t.equal(activations(), 1);

  const image = await noisyJpeg(320, 240);
  const answers: { status: number; at: number; model?: string }[] = [];
  let posting = true;
  const poster = (async () => {
    while (posting) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: image });
      const body = (await res.json()) as { model?: { name: string; version: string } };
      answers.push({ status: res.status, at: Date.now(), ...(body.model ? { model: `${body.model.name}@${body.model.version}` } : {}) });
    }
  })();
  while (answers.length < 5) await new Promise((r) => setTimeout(r, 20));

  const sent = Date.now();
  const res = await rig.request('restart-inference');
  const answered = Date.now();
  t.equal(res.status, 'ok', JSON.stringify(res));
  const data = res.data as { model: { name: string; version: string; backend: string }; restartMs: number; swapMode: string };
  const serving = answers[0]?.model;
  t.equal(`${data.model.name}@${data.model.version}`, serving, 'the response names the model that serves');
  t.equal(data.model.backend, 'onnxruntime');
  t.equal(data.swapMode, 'beside');
  t.ok(data.restartMs > 0 && data.restartMs <= answered - sent, `restartMs ${data.restartMs} is within the request's round trip (${answered - sent} ms)`);
  // The log line is written before the response is sent, but reaches this process through a pipe.
  await a.waitLog(/"msg":"model activated"[\s\S]*"msg":"model activated"/, 10_000);
  t.equal(activations(), 2, 'a second engine was loaded and warmed for the same model');
  const since = answers.length;
  while (answers.length < since + 5) await new Promise((r) => setTimeout(r, 20));
  posting = false;
  await poster;
  const during = answers.filter((x) => x.at >= sent && x.at <= answered);
  t.ok(during.length > 0, `${during.length} requests were answered while the restart ran`);
  t.same(answers.filter((x) => x.status !== 200), [], `all ${answers.length} requests answered 200 across the restart`);
  t.same([...new Set(answers.map((x) => x.model))], [serving], 'same model before and after');

  // A deployment stuck downloading (the package server never answers) holds the daemon.
  const stall: Server = createServer(() => undefined);
  await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    stall.closeAllConnections();
    stall.close();
  });
  const addr = stall.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/p.tar`;
  const m: DeploymentManifest = {
    v: 1,
    deploymentId: 'ops-stuck-1',
    issuedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    sequence: Date.now(),
    package: { url, sha256: 'a'.repeat(64), size: 1000 },
    model: { name: 'small', version: '9.9.9' },
  };
  await rig.watch.client.publishAsync(`${PREFIX}/devices/${DEVICE}/desired`, JSON.stringify(signEnvelope(JSON.stringify(m), rig.fleet.privateKey, 'fleet-1')), { qos: 1, retain: true });
  t.teardown(() => rig.watch.client.publishAsync(`${PREFIX}/devices/${DEVICE}/desired`, '', { qos: 1, retain: true }));
  await rig.watch.waitFor((x) => x.topic.endsWith('/deployment') && x.json<{ deploymentId: string; state: string }>().state === 'downloading');
  const busy = await rig.request('restart-inference');
  t.equal(busy.status, 'error');
  t.equal(busy.error?.code, 'BUSY');
  t.match(busy.error?.message, /deployment ops-stuck-1 is in progress \(state downloading\)/);
  t.equal(activations(), 2, 'no restart happened');
});

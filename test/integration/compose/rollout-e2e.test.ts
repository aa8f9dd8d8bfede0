import t from 'tap';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAgent } from '../../helpers/agent-process.js';
import { noisyJpeg } from '../../helpers/inference.js';
import { Mosquitto, PREFIX } from '../../helpers/mosquitto.js';
import { Watcher } from '../../helpers/mqtt-watch.js';
import { PackageServer } from '../../helpers/package-server.js';
import { agentConfigYaml, tinyOnnx, tinyPackage } from '../../helpers/real-fleet.js';
import { signEnvelope } from '../../../agent/src/core/envelope.js';
import type { DeploymentManifest } from '../../../agent/src/core/contracts/manifest.js';
import type { DeploymentReport } from '../../../agent/src/core/contracts/deployment.js';

/**
 * Device-side rollout with every real piece: a real agent process (`jetson-agent run`) on a
 * real mosquitto, signed manifests, packages made by `jetson-fleet package create` from
 * generated TAO-YOLOv3 ONNX models and served over HTTP, the model store, conversion
 * (NMS-node surgery), ONNX Runtime warm-up and hot swap, while a client keeps posting images:
 * no request may fail during the whole run.
 */
const DEVICE = 'jet-e2e';
const PASSWORD = 'device-secret';

t.test('signed rollouts drive a real agent: success, bad signature, broken model; zero failed requests', async (t) => {
  const dir = t.testdir({ state: {} });
  const state = path.join(dir, 'state');
  const broker = await new Mosquitto({ users: { [DEVICE]: PASSWORD } }).start();
  t.teardown(() => broker.close());
  const pkgs = await new PackageServer().start();
  t.teardown(() => pkgs.close());

  const fleet = generateKeyPairSync('ed25519');
  const good = (await tinyPackage(dir, 'small', '2.0.0', tinyOnnx(3))).body;
  // A well-formed ONNX file naming an operator ONNX Runtime does not know: intake and
  // conversion accept it, loading and warm-up must fail.
  const broken = (await tinyPackage(dir, 'small', '3.0.0', tinyOnnx(4, true))).body;

  let seq = 0;
  const manifest = (url: string, body: Buffer, version: string): DeploymentManifest => ({
    v: 1,
    deploymentId: `e2e-${++seq}`,
    issuedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    sequence: Date.now() + seq,
    package: { url, sha256: createHash('sha256').update(body).digest('hex'), size: body.length },
    model: { name: 'small', version },
    policy: { probationSec: 1 },
  });

  writeFileSync(
    path.join(dir, 'config.yaml'),
    agentConfigYaml({
      deviceId: DEVICE,
      groups: [],
      brokerUrl: broker.url,
      password: PASSWORD,
      keys: [{ keyId: 'fleet-1', publicKey: fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
      healthIntervalSec: 2,
    }),
  );
  const watch = await Watcher.connect(broker.url, [`${PREFIX}/devices/${DEVICE}/#`]);
  t.teardown(() => watch.close());

  const agent = startAgent(['--config', path.join(dir, 'config.yaml'), '--state-dir', state]);
  t.teardown(() => agent.kill());
  const port = await agent.port();
  await agent.waitLog(/"msg":"model activated"/);
  await watch.waitFor((m) => m.topic.endsWith('/status') && m.json<{ state: string }>().state === 'online');

  // A client posting images for the whole run: every answer must be 200.
  const image = await noisyJpeg(320, 240);
  const answers: { status: number; model?: string }[] = [];
  let posting = true;
  const poster = (async () => {
    while (posting) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: image });
      const body = (await res.json()) as { model?: { name: string; version: string } };
      answers.push({ status: res.status, ...(body.model ? { model: `${body.model.name}@${body.model.version}` } : {}) });
    }
  })();

  // Every wait is bounded and, when it runs out, says what the broker and the agent showed.
  const within = <T>(p: Promise<T>, what: string, ms = 120_000): Promise<T> =>
    Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(() => {
          const reports = watch.seen.filter((m) => m.topic.endsWith('/deployment')).map((m) => m.body);
          reject(new Error(`no ${what} within ${ms} ms; deployment reports seen: ${reports.join('\n')}\nagent log tail:\n${agent.log().slice(-4000)}`));
        }, ms).unref(),
      ),
    ]);
  const terminal = (id: string): Promise<DeploymentReport> =>
    within(
      watch
      .waitFor((m) => {
        if (!m.topic.endsWith('/deployment')) return false;
        const r = m.json<DeploymentReport>();
        return r.deploymentId === id && ['active', 'failed', 'rejected', 'rolled_back', 'superseded', 'canceled'].includes(r.state);
      })
      .then((m) => m.json<DeploymentReport>()),
      `terminal report for ${id}`,
    );
  const publish = (envelope: unknown): Promise<unknown> => watch.client.publishAsync(`${PREFIX}/devices/${DEVICE}/desired`, JSON.stringify(envelope), { qos: 1, retain: true });

  // 1. a manifest signed with a key the device does not trust → rejected, nothing changes
  const m2 = manifest(pkgs.add('/small-2.0.0-again.tar', good), good, '2.0.0');
  await publish(signEnvelope(JSON.stringify(m2), generateKeyPairSync('ed25519').privateKey, 'fleet-1'));
  const r2 = await within(
    watch.waitFor((m) => m.topic.endsWith('/deployment') && m.json<DeploymentReport>().state === 'rejected').then((m) => m.json<DeploymentReport>()),
    'rejected report for the untrusted manifest',
  );
  t.equal(r2.error?.code, 'MANIFEST_BAD_SIGNATURE');
  t.same(r2.model, null, 'nothing inside an unverified manifest is read');


  // 2. a good package: downloaded, stored, converted, warmed, switched, probation → active
  const m1 = manifest(pkgs.add('/small-2.0.0.tar', good), good, '2.0.0');
  await publish(signEnvelope(JSON.stringify(m1), fleet.privateKey, 'fleet-1'));
  const r1 = await terminal(m1.deploymentId);
  t.equal(r1.state, 'active', JSON.stringify(r1));
  t.same(r1.model, { name: 'small', version: '2.0.0' });
  t.same(r1.previous, { name: 'demo-yolov3', version: 'generated-1' });
  const after1 = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { active: { name: string; version: string } };
  t.match(after1.active, { name: 'small', version: '2.0.0' }, 'the new model serves');

  // 3. a broken model: fails before activation, the old model keeps serving
  const m3 = manifest(pkgs.add('/small-3.0.0.tar', broken), broken, '3.0.0');
  await publish(signEnvelope(JSON.stringify(m3), fleet.privateKey, 'fleet-1'));
  const r3 = await terminal(m3.deploymentId);
  t.equal(r3.state, 'failed', JSON.stringify(r3));
  t.ok(r3.error?.code, `coded error: ${r3.error?.code ?? ''}`);
  const after3 = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { active: { name: string; version: string } };
  t.match(after3.active, { name: 'small', version: '2.0.0' }, 'the previous model still serves');

  // Health is published retained and names the serving model.
  const health = await within(
    watch.waitFor((m) => m.topic.endsWith('/health') && JSON.stringify(m.json()).includes('"small"')),
    'health naming the new model',
  );
  t.match(health.json(), { agent: { model: { name: 'small', version: '2.0.0' } } });

  posting = false;
  await poster;
  t.ok(answers.length > 5, `${answers.length} requests during the rollouts`);
  t.same(answers.filter((a) => a.status !== 200), [], 'zero failed requests during the whole run');
  t.ok(answers.some((a) => a.model === 'small@2.0.0'), 'answers moved to the new model');

  agent.child.kill('SIGTERM');
  t.equal(await agent.exited, 0, agent.log().slice(-3000));
  // A subscriber arriving later sees the retained offline status the agent left behind.
  const late = await Watcher.connect(broker.url, [`${PREFIX}/devices/${DEVICE}/status`]);
  t.teardown(() => late.close());
  const offline = await late.waitFor((m) => m.topic.endsWith('/status'));
  t.ok(offline.retain, 'delivered as a retained message');
  t.match(offline.json(), { state: 'offline' });
});

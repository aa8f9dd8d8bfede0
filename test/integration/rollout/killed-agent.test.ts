import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { signEnvelope } from '../../../agent/src/core/envelope.js';
import type { DeploymentReport } from '../../../agent/src/core/contracts/deployment.js';
import type { StatusPayload } from '../../../agent/src/core/contracts/topics.js';
import { Mosquitto, PREFIX } from '../../helpers/mosquitto.js';
import { Watcher } from '../../helpers/mqtt-watch.js';
import { PackageServer } from '../../helpers/package-server.js';
import { REPO_ROOT, cleanEnv } from '../../helpers/cli.js';

/*
 * The agent PROCESS is SIGKILLed mid-rollout (during conversion) and started again: it resumes
 * from the persisted state without downloading again, and the final report is retained.
 * The device process uses the built client + executor with file-backed stand-in hooks for the
 * model store / inference service (test/fixtures/rollout/device-process.mjs).
 */
const DEVICE = 'jet-k1';
const SCRIPT = path.join(REPO_ROOT, 'test', 'fixtures', 'rollout', 'device-process.mjs');

t.test('agent killed and restarted mid-rollout', async (t) => {
  const broker = await new Mosquitto({ users: { [DEVICE]: 'pw' } }).start();
  t.teardown(() => broker.close());
  const files = await new PackageServer().start();
  t.teardown(() => files.close());
  const watch = await Watcher.connect(broker.controllerUrl, [`${PREFIX}/devices/${DEVICE}/#`]);
  t.teardown(() => watch.close());
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'killed-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const fleet = generateKeyPairSync('ed25519');
  const env = {
    ...cleanEnv(),
    NODE_OPTIONS: '',
    URL: broker.url,
    DEVICE,
    PASSWORD: 'pw',
    STATE_DIR: stateDir,
    PUBKEY_PEM: fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
  const children: ChildProcess[] = [];
  t.teardown(() => children.forEach((c) => c.kill('SIGKILL')));
  const startDevice = (): Promise<ChildProcess> => {
    const c = spawn(process.execPath, [SCRIPT], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(c);
    return new Promise((resolve) => c.stdout?.on('data', (d: Buffer) => d.toString().includes('device-ready') && resolve(c)));
  };

  const body = Buffer.from(JSON.stringify({ name: 'detector', version: '7.0.0', pad: 'y'.repeat(10000) }));
  const url = files.add('/p/7.0.0.tar', body);
  const m = {
    v: 1, deploymentId: 'dep-kill-1', issuedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3600_000).toISOString(), sequence: 1,
    package: { url, sha256: createHash('sha256').update(body).digest('hex'), size: body.length },
    model: { name: 'detector', version: '7.0.0' }, policy: { probationSec: 0 },
  };
  const first = await startDevice();
  const converting = new Promise<void>((resolve) => first.stdout?.on('data', (d: Buffer) => d.toString().includes('prepare-waiting') && resolve()));
  await watch.client.publishAsync(`${PREFIX}/devices/${DEVICE}/desired`, JSON.stringify(signEnvelope(JSON.stringify(m), fleet.privateKey, 'fleet')), { qos: 1, retain: true });
  await converting;
  const will = watch.next((x) => x.topic.endsWith('/status') && x.json<StatusPayload>().state === 'offline');
  first.kill('SIGKILL');
  t.equal((await will).json<StatusPayload>().reason, 'will', 'the broker published the last will');
  const persisted = JSON.parse(readFileSync(path.join(stateDir, 'deployments', 'state.json'), 'utf8')) as { current: { state: string } };
  t.equal(persisted.current.state, 'converting', 'state persisted at the moment of the kill');

  writeFileSync(path.join(stateDir, 'gate'), '');
  const active = watch.waitFor((x) => x.topic.endsWith('/deployment') && x.json<DeploymentReport>().state === 'active');
  const second = await startDevice();
  const r = (await active).json<DeploymentReport>();
  t.equal(r.deploymentId, 'dep-kill-1');
  t.same(r.previous, { name: 'detector', version: '0.9.0' });
  t.same((JSON.parse(readFileSync(path.join(stateDir, 'serving.json'), 'utf8')) as { serving: unknown }).serving, { name: 'detector', version: '7.0.0' }, 'the new model serves');
  t.equal(files.requests.filter((x) => x.path === '/p/7.0.0.tar').length, 1, 'downloaded once');
  second.kill('SIGKILL');
});

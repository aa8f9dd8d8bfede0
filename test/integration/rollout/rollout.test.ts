import t from 'tap';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeviceMqtt } from '../../../agent/src/mqtt/client.js';
import { RolloutExecutor, type DeploymentHooks, type ServingStats } from '../../../agent/src/rollout/executor.js';
import { rollbackOp } from '../../../agent/src/rollout/requests.js';
import { RequestReplayCache } from '../../../agent/src/rollout/request-replay.js';
import { reportSink, wireRollout } from '../../../agent/src/compose/mqtt-wiring.js';
import { KeyRing, signEnvelope } from '../../../agent/src/core/envelope.js';
import { deviceTopics } from '../../../agent/src/core/contracts/topics.js';
import type { DeploymentReport, ModelRef } from '../../../agent/src/core/contracts/deployment.js';
import type { DeploymentManifest } from '../../../agent/src/core/contracts/manifest.js';
import type { Servable } from '../../../agent/src/core/contracts/model.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import { createLogger } from '../../../agent/src/core/log.js';
// DBG=1 shows the agent log while debugging a failure.
const silentLogger = createLogger({ level: process.env.DBG ? 'debug' : 'silent', fd: 2 });
import { systemClock } from '../../../agent/src/platform/clock.js';
import { Mosquitto, PREFIX } from '../../helpers/mosquitto.js';
import { Watcher } from '../../helpers/mqtt-watch.js';
import { PackageServer } from '../../helpers/package-server.js';

/*
 * Device-side rollout against a REAL mosquitto and a REAL local HTTP server, with
 * IN-PROCESS HOOKS STANDING IN FOR THE MODEL STORE AND INFERENCE SERVICE: they read the
 * "package" (a JSON file naming model + version) and keep which model "serves". This lets the
 * executor be driven into states the real path reaches only slowly (deadlines, expiry). The same
 * failure matrix on the real ONNX Runtime path, with a real agent process, is in
 * test/integration/compose/rollout-e2e*.test.ts.
 */
const DEVICE = 'jet-01';
const fleet = generateKeyPairSync('ed25519');
const keys = new KeyRing([{ keyId: 'fleet', publicKey: fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString() }]);
const topics = deviceTopics(PREFIX, DEVICE);

class StandInModelStore implements DeploymentHooks {
  serving: ModelRef | null = { name: 'detector', version: '0.9.0' };
  history: ModelRef[] = [];
  stats: ServingStats = { ready: true, requests: 0, errors: 0 };
  failPrepare: string | undefined;
  /** When set, prepare waits for this before returning (or for its abort signal). */
  gate: Promise<void> | undefined;
  prepareEntered: (() => void) | undefined;
  onActivate: (() => void) | undefined;
  /** Traffic served by this version fails half the time (a model that is bad in production). */
  failingVersion: string | undefined;

  /** Hold the next prepare (a conversion in progress) until `release`; `entered` resolves when it starts. Undone at teardown. */
  hold(t: { teardown(fn: () => void): void }): { entered: Promise<void>; release: () => void } {
    let release: () => void = () => undefined;
    this.gate = new Promise<void>((r) => (release = r));
    const entered = new Promise<void>((r) => (this.prepareEntered = r));
    t.teardown(() => this.unhold());
    return { entered, release: () => release() };
  }
  unhold(): void {
    this.gate = undefined;
    this.prepareEntered = undefined;
  }
  currentModel(): ModelRef | null {
    return this.serving;
  }
  async intake(pkg: string, sha: string): Promise<{ name: string; version: string; packageSha256: string }> {
    const m = JSON.parse(readFileSync(pkg, 'utf8')) as { name: string; version: string };
    return { name: m.name, version: m.version, packageSha256: sha };
  }
  async prepare(name: string, version: string, signal: AbortSignal): Promise<Servable> {
    this.prepareEntered?.();
    if (this.gate) {
      await Promise.race([this.gate, new Promise((_r, rej) => signal.addEventListener('abort', () => rej(new AgentError('CANCELED', 'aborted')), { once: true }))]);
    }
    if (this.failPrepare) throw new AgentError('EXEC_FAILED', this.failPrepare);
    return { kind: 'onnxruntime', onnxPath: `/models/${name}-${version}.onnx`, model: { name, version } as Servable['model'], packageSha256: 'x', nms: null, outputNames: [] };
  }
  async warm(): Promise<void> {}
  async activate(s: Servable): Promise<void> {
    if (this.serving) this.history.push(this.serving);
    this.serving = { name: s.model.name, version: s.model.version };
    this.onActivate?.();
  }
  async rollbackToPrevious(): Promise<ModelRef | null> {
    const prev = this.history.pop();
    if (!prev) return null;
    this.serving = prev;
    return prev;
  }
  servingStats(): ServingStats {
    if (this.serving?.version === this.failingVersion) {
      this.stats = { ready: true, requests: this.stats.requests + 10, errors: this.stats.errors + 5 };
    }
    return this.stats;
  }
}

let seq = 10;
function manifest(url: string, body: Buffer, over: Partial<DeploymentManifest> = {}): DeploymentManifest {
  seq += 1;
  return {
    v: 1,
    deploymentId: `dep-${seq}`,
    issuedAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    sequence: seq,
    package: { url, sha256: createHash('sha256').update(body).digest('hex'), size: body.length },
    model: (({ name, version }) => ({ name, version }))(JSON.parse(body.toString()) as { name: string; version: string }),
    policy: { probationSec: 0 },
    ...over,
  };
}
const sign = (m: DeploymentManifest) => JSON.stringify(signEnvelope(JSON.stringify(m), fleet.privateKey, 'fleet'));
const pkgBody = (version: string) => Buffer.from(JSON.stringify({ name: 'detector', version, pad: 'x'.repeat(20000) }));

t.test('device-side rollout over a real mosquitto', async (t) => {
  const broker = await new Mosquitto({ users: { [DEVICE]: 'pw' } }).start();
  t.teardown(() => broker.close());
  const files = await new PackageServer().start();
  t.teardown(() => files.close());
  const watch = await Watcher.connect(broker.controllerUrl, [`${PREFIX}/devices/${DEVICE}/#`]);
  t.teardown(() => watch.close());
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'rollout-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  const store = new StandInModelStore();

  const client = new DeviceMqtt({
    url: broker.url, clientId: DEVICE, username: DEVICE, password: 'pw', protocolVersion: 4, keepaliveSec: 30,
    reconnectMinMs: 50, reconnectMaxMs: 500, offlineQueueMax: 100, topics, online: () => ({}), log: silentLogger,
  });
  await client.start();
  t.teardown(() => client.stop());

  const makeExecutor = (): RolloutExecutor =>
    new RolloutExecutor({
      stateDir,
      hooks: store,
      keys,
      facts: async () => ({ board: { soc: null, cudaArch: null, tensorrt: null, jetpack: null }, freeDiskBytes: 10 * 1024 ** 3 }),
      ...reportSink(client, PREFIX, DEVICE, silentLogger),
      defaults: {
        deadlines: { received: 60, downloading: 60, verifying: 60, converting: 60, warming: 60, activating: 60, probation: 30 },
        probationSec: 0, maxDownloadBytes: 10 * 1024 * 1024, maxErrorRate: 0.05, probationPollMs: 50,
      },
      log: silentLogger,
      clock: systemClock,
    });
  let executor = makeExecutor();
  await executor.start();
  // The wiring outlives an executor restart (the 'agent restart' case makes a new one): it must
  // always reach the current executor, as in the daemon where both live and die together.
  const current = {
    handleDesired: (payload: Buffer, via: 'device' | 'group') => executor.handleDesired(payload, via),
    republish: () => executor.republish(),
  };
  await wireRollout({ client, executor: current, prefix: PREFIX, deviceId: DEVICE, groups: ['lab'], keys, handlers: { ping: async () => ({ pong: true }), rollback: async (p) => rollbackOp(executor)(p), 'get-config': undefined, 'plugin-status': undefined, 'plugin-rebuild': undefined, 'restart-inference': undefined }, replay: new RequestReplayCache(stateDir, silentLogger), requestMaxTtlMs: 3_600_000, log: silentLogger, now: () => Date.now() });
  await client.waitConnected();

  const terminal = (id: string) =>
    watch.waitFor((m) => m.topic === topics.deployment.topic && m.json<DeploymentReport>().deploymentId === id && ['active', 'failed', 'rejected', 'rolled_back', 'superseded', 'canceled'].includes(m.json<DeploymentReport>().state)).then((m) => m.json<DeploymentReport>());
  const publishDesired = (body: string) => watch.client.publishAsync(topics.desired.topic, body, { qos: 1, retain: true });
  /** What a controller subscribing now would see as the retained report. */
  const retainedReport = async (): Promise<DeploymentReport> => {
    const late = await Watcher.connect(broker.controllerUrl, [topics.deployment.topic], { clean: true });
    const m = await late.waitFor(() => true);
    await late.close();
    return m.json<DeploymentReport>();
  };

  await t.test('success: download → verify → convert → warm → activate → probation → active', async (t) => {
    const body = pkgBody('1.0.0');
    const m = manifest(files.add('/p/1.0.0.tar', body), body);
    await publishDesired(sign(m));
    const r = await terminal(m.deploymentId);
    t.equal(r.state, 'active');
    t.same(r.model, { name: 'detector', version: '1.0.0' });
    t.same(r.previous, { name: 'detector', version: '0.9.0' });
    t.same(store.serving, { name: 'detector', version: '1.0.0' }, 'the new model serves');
    const states = watch.seen.filter((x) => x.topic === topics.deployment.topic && x.json<DeploymentReport>().deploymentId === m.deploymentId).map((x) => x.json<DeploymentReport>().state);
    t.same([...new Set(states)], ['received', 'downloading', 'verifying', 'converting', 'warming', 'activating', 'probation', 'active']);
    const seqs = watch.seen.filter((x) => x.topic === topics.deployment.topic && x.json<DeploymentReport>().deploymentId === m.deploymentId).map((x) => x.json<DeploymentReport>().seq);
    t.same(seqs, [...seqs].sort((a, b) => a - b), 'report seq increases');
    // Messages per rollout (docs/benchmarks.md): one per state + ≤ 11 download progress + 1 conversion progress.
    t.ok(seqs.length <= 20, `${seqs.length} deployment reports for one successful rollout`);
    t.equal((await retainedReport()).state, 'active', 'the final report is retained');
    t.equal(executor.memory.current, null);
  });

  await t.test('duplicate (retained redelivery) and out-of-order (older sequence) desired', async (t) => {
    const before = await retainedReport();
    const body = pkgBody('0.5.0');
    const old = manifest(files.add('/p/0.5.0.tar', body), body, { sequence: 3 });
    const replayed = watch.next((m) => m.topic === topics.events.topic && m.body.includes('desired.replayed'));
    await publishDesired(sign(old));
    await replayed;
    await executor.idle();
    t.same(await retainedReport(), before, 'retained report untouched by a replayed manifest');
    t.same(store.serving, { name: 'detector', version: '1.0.0' });
    t.ok(executor.memory.highestSequence > 3);
  });

  await t.test('bad signature → rejected, nothing downloaded', async (t) => {
    const body = pkgBody('6.6.6');
    const m = manifest(files.add('/p/evil.tar', body), body);
    const env = signEnvelope(JSON.stringify(m), generateKeyPairSync('ed25519').privateKey, 'fleet');
    const next = watch.next((x) => x.topic === topics.deployment.topic && x.json<DeploymentReport>().state === 'rejected');
    await publishDesired(JSON.stringify(env));
    const r = (await next).json<DeploymentReport>();
    t.equal(r.error?.code, 'MANIFEST_BAD_SIGNATURE');
    t.match(r.deploymentId, /^unverified-/);
    t.notOk(files.requests.some((x) => x.path === '/p/evil.tar'));
    t.same(store.serving, { name: 'detector', version: '1.0.0' });
  });

  await t.test('expired manifest → rejected MANIFEST_EXPIRED', async (t) => {
    const body = pkgBody('1.0.1');
    const m = manifest(files.add('/p/1.0.1.tar', body), body, { expiresAt: new Date(Date.now() - 1000).toISOString() });
    await publishDesired(sign(m));
    const r = await terminal(m.deploymentId);
    t.equal(r.state, 'rejected');
    t.equal(r.error?.code, 'MANIFEST_EXPIRED');
  });

  await t.test('incompatible manifest → rejected before download', async (t) => {
    const body = pkgBody('1.0.2');
    const m = manifest(files.add('/p/1.0.2.tar', body), body, { requires: { socs: ['tegra234'] } });
    await publishDesired(sign(m));
    const r = await terminal(m.deploymentId);
    t.equal(r.state, 'rejected');
    t.equal(r.error?.code, 'MANIFEST_INCOMPATIBLE');
    t.notOk(files.requests.some((x) => x.path === '/p/1.0.2.tar'));
  });

  await t.test('sha256 mismatch → failed, old model keeps serving', async (t) => {
    const body = pkgBody('1.1.0');
    const m = manifest(files.add('/p/1.1.0.tar', body), body);
    const lying = { ...m, package: { ...m.package, sha256: 'f'.repeat(64) } };
    await publishDesired(sign(lying));
    const r = await terminal(m.deploymentId);
    t.equal(r.state, 'failed');
    t.equal(r.error?.code, 'DOWNLOAD_SHA_MISMATCH');
    t.same(store.serving, { name: 'detector', version: '1.0.0' });
  });

  await t.test('truncated download is resumed with Range', async (t) => {
    const body = pkgBody('1.2.0');
    const url = files.add('/p/1.2.0.tar', body);
    files.truncateOnce('/p/1.2.0.tar', 7000);
    const m = manifest(url, body);
    await publishDesired(sign(m));
    const r = await terminal(m.deploymentId);
    t.equal(r.state, 'active');
    const reqs = files.requests.filter((x) => x.path === '/p/1.2.0.tar');
    t.same(reqs.map((x) => x.status), [200, 206]);
    t.equal(reqs[1]?.range, 'bytes=7000-', 'second request resumes after the bytes already on disk');
    t.same(store.serving, { name: 'detector', version: '1.2.0' });
  });

  await t.test('conversion failure before activation → failed, old model keeps serving', async (t) => {
    store.failPrepare = 'tlt-converter exited 1';
    t.teardown(() => (store.failPrepare = undefined));
    const body = pkgBody('1.3.0');
    const m = manifest(files.add('/p/1.3.0.tar', body), body);
    await publishDesired(sign(m));
    const r = await terminal(m.deploymentId);
    t.equal(r.state, 'failed');
    t.equal(r.error?.code, 'EXEC_FAILED');
    t.same(store.serving, { name: 'detector', version: '1.2.0' });
    // A controller rolling the wave back names this deployment: it never served, so nothing is undone
    // (going back would replace the last good model with the one before it).
    t.same(await executor.rollback(m.deploymentId), { name: 'detector', version: '1.2.0' });
    t.same(await executor.rollback('never-worked-here'), { name: 'detector', version: '1.2.0' });
    t.same(store.serving, { name: 'detector', version: '1.2.0' }, 'a rollback naming a failed or unknown deployment changes nothing');
  });

  await t.test('unhealthy during probation → rolled_back to the previous model', async (t) => {
    store.failingVersion = '1.4.0'; // every stats read while 1.4.0 serves sees 10 more requests, 5 failed
    t.teardown(() => (store.failingVersion = undefined));
    const body = pkgBody('1.4.0');
    const m = manifest(files.add('/p/1.4.0.tar', body), body, { policy: { probationSec: 2 } });
    await publishDesired(sign(m));
    const r = await terminal(m.deploymentId);
    t.equal(r.state, 'rolled_back');
    t.equal(r.error?.code, 'DEPLOYMENT_PROBATION_FAILED');
    t.same(store.serving, { name: 'detector', version: '1.2.0' }, 'previous model serves again');
  });

  await t.test('a state past its deadline ends the deployment: converting hangs → failed DEPLOYMENT_TIMEOUT', async (t) => {
    store.gate = new Promise<void>(() => undefined); // a converter that never returns (only its abort signal ends it)
    t.teardown(() => (store.gate = undefined));
    const body = pkgBody('1.5.0');
    const m = manifest(files.add('/p/1.5.0.tar', body), body, { policy: { probationSec: 0, deadlines: { convertSec: 1 } } });
    await publishDesired(sign(m));
    const r = await terminal(m.deploymentId);
    t.equal(r.state, 'failed');
    t.equal(r.error?.code, 'DEPLOYMENT_TIMEOUT');
    t.equal(r.stage, 'converting');
    t.same(store.serving, { name: 'detector', version: '1.2.0' }, 'old model keeps serving');
  });

  await t.test('a newer desired mid-rollout supersedes the running one', async (t) => {
    const { entered, release } = store.hold(t);
    const a = pkgBody('2.0.0');
    const ma = manifest(files.add('/p/2.0.0.tar', a), a);
    await publishDesired(sign(ma));
    await entered;
    store.gate = undefined;
    const b = pkgBody('2.1.0');
    const mb = manifest(files.add('/p/2.1.0.tar', b), b);
    await publishDesired(sign(mb));
    const ra = await terminal(ma.deploymentId);
    t.equal(ra.state, 'superseded');
    t.equal(ra.error?.code, 'DEPLOYMENT_SUPERSEDED');
    const rb = await terminal(mb.deploymentId);
    t.equal(rb.state, 'active');
    t.same(store.serving, { name: 'detector', version: '2.1.0' });
    release();
  });

  await t.test('superseded during probation: the previous model is restored before the newer one starts', async (t) => {
    const before = store.serving;
    const a = pkgBody('2.2.0');
    const ma = manifest(files.add('/p/2.2.0.tar', a), a, { policy: { probationSec: 600 } });
    await publishDesired(sign(ma));
    await watch.waitFor((x) => x.topic === topics.deployment.topic && x.json<DeploymentReport>().deploymentId === ma.deploymentId && x.json<DeploymentReport>().state === 'probation');
    t.same(store.serving, { name: 'detector', version: '2.2.0' }, 'A serves during its probation');
    const b = pkgBody('2.3.0');
    const mb = manifest(files.add('/p/2.3.0.tar', b), b);
    await publishDesired(sign(mb));
    const ra = await terminal(ma.deploymentId);
    t.equal(ra.state, 'superseded');
    t.equal(ra.stage, 'probation');
    const rb = await terminal(mb.deploymentId);
    t.equal(rb.state, 'active');
    t.same(rb.previous, before, 'B replaced the model that served before A, not the half-proven A');
  });

  await t.test('agent restart mid-rollout resumes from the persisted state', async (t) => {
    const { entered, release } = store.hold(t);
    const body = pkgBody('3.0.0');
    const m = manifest(files.add('/p/3.0.0.tar', body), body);
    await publishDesired(sign(m));
    await entered;
    await executor.stop(); // the agent goes down during conversion
    const persisted = JSON.parse(readFileSync(path.join(stateDir, 'deployments', 'state.json'), 'utf8')) as { current: { state: string; deploymentId: string } };
    t.same([persisted.current.deploymentId, persisted.current.state], [m.deploymentId, 'converting']);
    store.unhold();
    release();
    executor = makeExecutor();
    await executor.start(); // resumes: the retained desired is a duplicate and is ignored
    await executor.handleDesired(Buffer.from(sign(m)), 'device');
    const r = await terminal(m.deploymentId);
    t.equal(r.state, 'active');
    t.same(store.serving, { name: 'detector', version: '3.0.0' });
    t.equal(files.requests.filter((x) => x.path === '/p/3.0.0.tar').length, 1, 'not downloaded again');
  });

  await t.test('broker restarted mid-rollout: the final report still arrives, retained', async (t) => {
    const { entered, release } = store.hold(t);
    const body = pkgBody('4.0.0');
    const m = manifest(files.add('/p/4.0.0.tar', body), body);
    await publishDesired(sign(m));
    await entered;
    await broker.stop();
    release();
    await executor.idle(); // finished while the broker was down: the report waits in the queue
    t.equal(executor.memory.lastTerminal?.state, 'active');
    await broker.start();
    const r = await terminal(m.deploymentId);
    t.equal(r.state, 'active');
    t.equal((await retainedReport()).deploymentId, m.deploymentId);
  });

  await t.test('signed rollback request; unsigned rollback refused; ping unsigned', async (t) => {
    const tx = 'tx-1';
    const unsigned = watch.next((m) => m.topic === topics.response('rollback').topic);
    await watch.client.publishAsync(topics.request('rollback').topic, JSON.stringify({ v: 1, transaction: tx }), { qos: 1 });
    t.equal((await unsigned).json<{ status: string }>().status, 'error');
    t.same(store.serving, { name: 'detector', version: '4.0.0' });
    const active = executor.memory.lastTerminal;
    t.equal(active?.state, 'active');
    // Named like the controller's wave rollback: the active deployment is undone.
    const req = { v: 2, op: 'rollback', transaction: 'tx-2', deviceId: DEVICE, expiresAt: new Date(Date.now() + 60000).toISOString(), params: { deploymentId: active?.deploymentId } };
    const signed = watch.next((m) => m.topic === topics.response('rollback').topic);
    await watch.client.publishAsync(topics.request('rollback').topic, JSON.stringify(signEnvelope(JSON.stringify(req), fleet.privateKey, 'fleet')), { qos: 1 });
    const res = (await signed).json<{ status: string; transaction: string }>();
    t.same([res.status, res.transaction], ['ok', 'tx-2']);
    t.same(store.serving, { name: 'detector', version: '3.0.0' });
    t.match(await retainedReport(), { deploymentId: active?.deploymentId, state: 'rolled_back', stage: 'rollback-request' }, 'the undone deployment is reported rolled_back');
    const ask = async (transaction: string, params: Record<string, unknown>): Promise<{ status: string; error?: { code: string } }> => {
      const body = { v: 2, op: 'rollback', transaction, deviceId: DEVICE, expiresAt: new Date(Date.now() + 60000).toISOString(), params };
      const answer = watch.next((m) => m.topic === topics.response('rollback').topic && m.json<{ transaction: string }>().transaction === transaction);
      await watch.client.publishAsync(topics.request('rollback').topic, JSON.stringify(signEnvelope(JSON.stringify(body), fleet.privateKey, 'fleet')), { qos: 1 });
      return (await answer).json();
    };
    // The controller retries, or `rollout rollback` follows `rollout abort`: the same deployment
    // again must not toggle back to the model it installed.
    t.match(await ask('tx-3', { deploymentId: active?.deploymentId }), { status: 'ok' });
    t.same(store.serving, { name: 'detector', version: '3.0.0' }, 'a repeated rollback of the same deployment changes nothing');
    t.match(await ask('tx-4', { deploymentId: 42 }), { status: 'error', error: { code: 'BAD_REQUEST' } }, 'a non-string id is refused, not taken as an unscoped rollback');
    t.same(store.serving, { name: 'detector', version: '3.0.0' });
    const pong = watch.next((m) => m.topic === topics.response('ping').topic);
    await watch.client.publishAsync(topics.request('ping').topic, JSON.stringify({ v: 1, transaction: 'p1' }), { qos: 1 });
    t.same((await pong).json(), { v: 1, transaction: 'p1', status: 'ok', data: { pong: true } });
  });

  await t.test('rollback naming an older deployment while a newer one runs changes nothing; after a restart the record names the way back', async (t) => {
    const b5 = pkgBody('5.0.0');
    const x = manifest(files.add('/p/5.0.0.tar', b5), b5);
    await publishDesired(sign(x));
    t.equal((await terminal(x.deploymentId)).state, 'active');
    t.same(store.serving, { name: 'detector', version: '5.0.0' });

    const { entered, release } = store.hold(t);
    const b6 = pkgBody('6.0.0');
    const y = manifest(files.add('/p/6.0.0.tar', b6), b6);
    await publishDesired(sign(y));
    await entered;
    // The controller rolls back X's wave while Y (newer) is converting here: switching models
    // now would only confuse Y's probation; Y replaces X's model anyway.
    t.same(await executor.rollback(x.deploymentId), { name: 'detector', version: '5.0.0' });
    t.same(store.serving, { name: 'detector', version: '5.0.0' }, 'no switch under the running deployment');
    store.unhold();
    release();
    t.equal((await terminal(y.deploymentId)).state, 'active', 'the newer deployment finishes');

    // Agent restart: the inference service starts with 6.0.0 and knows no previous model.
    await executor.stop();
    store.history = [];
    executor = makeExecutor();
    await executor.start();
    t.same(await executor.rollback(y.deploymentId), { name: 'detector', version: '5.0.0' }, 'back to the model the record names');
    t.same(store.serving, { name: 'detector', version: '5.0.0' });
    t.match(await retainedReport(), { deploymentId: y.deploymentId, state: 'rolled_back', stage: 'rollback-request' });
  });

  await t.test('inbox package goes through the same flow with a local id', async (t) => {
    const file = path.join(stateDir, 'inbox-pkg.tar');
    writeFileSync(file, pkgBody('5.0.0'));
    const id = await executor.deployLocal(file);
    t.match(id, /^inbox-/);
    const r = await terminal(id);
    t.equal(r.state, 'active');
    t.equal(r.source, 'inbox');
    t.same(r.model, { name: 'detector', version: '5.0.0' });
  });

  await t.test('a rejected manifest does not burn the sequence: a valid earlier-sequence manifest after an INCOMPATIBLE one is deployed', async (t) => {
    const bad = pkgBody('7.0.3');
    const incompatible = manifest(files.add('/p/7.0.3.tar', bad), bad, { sequence: seq + 1000, requires: { socs: ['tegra234'] } });
    await publishDesired(sign(incompatible));
    t.match(await terminal(incompatible.deploymentId), { state: 'rejected', error: { code: 'MANIFEST_INCOMPATIBLE' } });
    const body = pkgBody('7.0.4');
    const good = manifest(files.add('/p/7.0.4.tar', body), body);
    t.ok(good.sequence < incompatible.sequence);
    // Refused as a replay, the manifest gets no report, only a desired.replayed event: wait for either.
    const replayed = watch.next((m) => m.topic === topics.events.topic && m.body.includes('desired.replayed')).then((m) => ({ replayed: m.body }));
    await publishDesired(sign(good));
    const r = await Promise.race([terminal(good.deploymentId), replayed]);
    t.notOk('replayed' in r, `the valid manifest was not refused as a replay: ${JSON.stringify(r)}`);
    t.equal('state' in r ? r.state : undefined, 'active');
    t.equal(executor.memory.highestSequence, good.sequence, 'the counter is the accepted manifest, not the rejected one');
    t.same(store.serving, { name: 'detector', version: '7.0.4' });
  });

  await executor.stop();
});

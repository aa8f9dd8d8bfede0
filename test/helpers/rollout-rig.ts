import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import sharp from 'sharp';
import { signEnvelope } from '../../agent/src/core/envelope.js';
import type { DeploymentManifest } from '../../agent/src/core/contracts/manifest.js';
import { isTerminal, type DeploymentReport } from '../../agent/src/core/contracts/deployment.js';
import type { SignedEnvelope, StatusPayload } from '../../agent/src/core/contracts/topics.js';
import { startAgent, type AgentProcess } from './agent-process.js';
import { noisyJpeg } from './inference.js';
import { Mosquitto, PREFIX } from './mosquitto.js';
import { Watcher, type Seen } from './mqtt-watch.js';
import { PackageServer } from './package-server.js';
import { agentConfigYaml, tinyPackage } from './real-fleet.js';

/**
 * Device-side rollout end to end with every real piece (issue #6): a real mosquitto, a real
 * `jetson-agent run` process on the ONNX Runtime path, packages made by `jetson-fleet package
 * create` from generated models and served over local HTTP, signed manifests, and a client
 * that keeps posting images and records every answer. Shared by the rollout-e2e-*.test.ts files.
 */
export const DEVICE = 'jet-e2e';
const PASSWORD = 'device-secret';
export const MODEL = 'small';
/** The model the agent serves at start (inference.demoModel). */
export const DEMO = { name: 'demo-yolov3', version: 'generated-1' } as const;

export interface Answer {
  readonly status: number;
  /** `name@version` from the response body, when it names one. */
  readonly model?: string;
  readonly error?: string;
  /** The agent was up and ready from the request's start to its end (see RolloutRig.up). */
  readonly counted: boolean;
}

export interface GoldenCase {
  readonly file: string;
  readonly image: Buffer;
  readonly detections: readonly { classId: number; score: number; box: { x1: number; y1: number; x2: number; y2: number } }[];
}

export interface RigOptions {
  /** Extra config keys merged over the rig's config (e.g. rollout deadlines). */
  readonly config?: Record<string, unknown>;
}

export class RolloutRig {
  readonly dir: string;
  readonly state: string;
  readonly fleet = generateKeyPairSync('ed25519');
  agent: AgentProcess | undefined;
  port = 0;
  readonly answers: Answer[] = [];
  private seq = 0;
  /** Bumped on every agent start and kill: a request spanning a change is not counted. */
  private generation = 0;
  private up = false;
  private posting: Promise<void> | undefined;
  private stopPosting = false;

  private constructor(
    private readonly t: Test,
    readonly broker: Mosquitto,
    readonly pkgs: PackageServer,
    readonly watch: Watcher,
  ) {
    this.dir = t.testdir({ state: {} });
    this.state = path.join(this.dir, 'state');
  }

  static async start(t: Test, o: RigOptions = {}): Promise<RolloutRig> {
    const broker = await new Mosquitto({ users: { [DEVICE]: PASSWORD } }).start();
    t.teardown(() => broker.close());
    const pkgs = await new PackageServer().start();
    t.teardown(() => pkgs.close());
    const watch = await Watcher.connect(broker.controllerUrl, [`${PREFIX}/devices/${DEVICE}/#`]);
    t.teardown(() => watch.close());
    const rig = new RolloutRig(t, broker, pkgs, watch);
    t.teardown(() => rig.stopClient());
    t.teardown(() => rig.agent?.kill());
    writeFileSync(
      path.join(rig.dir, 'config.yaml'),
      agentConfigYaml({
        deviceId: DEVICE,
        groups: [],
        brokerUrl: broker.url,
        password: PASSWORD,
        keys: [{ keyId: 'fleet-1', publicKey: rig.fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
        healthIntervalSec: 2,
        extra: o.config,
      }),
    );
    return rig;
  }

  /** Start `jetson-agent run` and wait until it serves a model and is online on the broker. */
  async startAgent(): Promise<void> {
    const online = this.watch.next((m) => m.topic.endsWith('/status') && m.json<StatusPayload>().state === 'online');
    const agent = startAgent(['--config', path.join(this.dir, 'config.yaml'), '--state-dir', this.state]);
    this.agent = agent;
    this.port = await agent.port();
    await agent.waitLog(/"msg":"model activated"/);
    await this.within(online, 'online status');
    this.generation++;
    this.up = true;
  }

  /** SIGKILL the agent (no shutdown at all) and wait for the broker's last will. */
  async killAgent(): Promise<void> {
    const will = this.watch.next((m) => m.topic.endsWith('/status') && m.json<StatusPayload>().state === 'offline');
    this.up = false;
    this.generation++;
    this.agent?.kill();
    await this.agent?.exited;
    await this.within(will, 'last will (offline status)');
  }

  /** SIGTERM: a clean stop must exit 0. */
  async stopAgent(): Promise<number | null> {
    this.up = false;
    this.generation++;
    this.agent?.child.kill('SIGTERM');
    return (await this.agent?.exited) ?? null;
  }

  /** Package a model with `jetson-fleet package create` (optionally with golden images). */
  async makePackage(version: string, onnx: Uint8Array, golden?: { cases: readonly GoldenCase[]; iouTolerance?: number; scoreTolerance?: number }): Promise<Buffer> {
    return (await tinyPackage(this.dir, MODEL, version, onnx, golden)).body;
  }

  /** A manifest for `body` served at `url`; ids and sequences grow with every call. */
  manifest(url: string, body: Buffer, version: string, over: Partial<DeploymentManifest> = {}): DeploymentManifest {
    this.seq++;
    return {
      v: 1,
      deploymentId: `e2e-${this.seq}-${version}`,
      issuedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
      sequence: Date.now() * 10 + this.seq,
      package: { url, sha256: createHash('sha256').update(body).digest('hex'), size: body.length },
      model: { name: MODEL, version },
      policy: { probationSec: 1 },
      ...over,
    };
  }

  /** Serve `body` under a fresh path and return a manifest for it. */
  offer(body: Buffer, version: string, over: Partial<DeploymentManifest> = {}): DeploymentManifest {
    return this.manifest(this.pkgs.add(`/${MODEL}-${version}-${this.seq + 1}.tar`, body), body, version, over);
  }

  sign(m: DeploymentManifest, key: KeyObject = this.fleet.privateKey): SignedEnvelope {
    return signEnvelope(JSON.stringify(m), key, 'fleet-1');
  }

  /** Publish on `{p}/devices/{id}/desired` retained, QoS 1 (as `jetson-fleet rollout` does). */
  async publish(m: DeploymentManifest | SignedEnvelope): Promise<void> {
    const envelope = 'payload' in m ? m : this.sign(m);
    await this.watch.client.publishAsync(`${PREFIX}/devices/${DEVICE}/desired`, JSON.stringify(envelope), { qos: 1, retain: true });
  }

  /** Every wait is bounded and, when it runs out, says what the broker and the agent showed. */
  within<T>(p: Promise<T>, what: string, ms = 120_000): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const reports = this.reports().map((r) => JSON.stringify(r));
          reject(new Error(`no ${what} within ${ms} ms; deployment reports seen:\n${reports.join('\n')}\nagent log tail:\n${this.agent?.log().slice(-4000) ?? ''}`));
        }, ms);
        timer.unref();
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Every deployment report seen so far, in arrival order. */
  reports(id?: string): DeploymentReport[] {
    return this.watch.seen.filter((m) => m.topic.endsWith('/deployment')).map((m) => m.json<DeploymentReport>()).filter((r) => id === undefined || r.deploymentId === id);
  }

  report(pred: (r: DeploymentReport) => boolean, what: string): Promise<DeploymentReport> {
    return this.within(
      this.watch.waitFor((m) => m.topic.endsWith('/deployment') && pred(m.json<DeploymentReport>())).then((m) => m.json<DeploymentReport>()),
      what,
    );
  }

  terminal(id: string): Promise<DeploymentReport> {
    return this.report((r) => r.deploymentId === id && isTerminal(r.state), `terminal report for ${id}`);
  }

  /** The retained deployment report as a subscriber arriving now sees it. */
  async retained(): Promise<DeploymentReport> {
    const late = await Watcher.connect(this.broker.controllerUrl, [`${PREFIX}/devices/${DEVICE}/deployment`], { clean: true });
    try {
      const m: Seen = await this.within(late.waitFor((x) => x.topic.endsWith('/deployment')), 'retained deployment report');
      if (!m.retain) throw new Error('the deployment report was not delivered as retained');
      return m.json<DeploymentReport>();
    } finally {
      await late.close();
    }
  }

  /** The active model per GET /v1/models, as `name@version`. */
  async serving(): Promise<string> {
    const r = (await (await fetch(`http://127.0.0.1:${this.port}/v1/models`)).json()) as { active: { name: string; version: string } | null };
    return r.active ? `${r.active.name}@${r.active.version}` : 'none';
  }

  async detect(image: Buffer): Promise<{ status: number; body: { model?: { name: string; version: string }; detections?: GoldenCase['detections'] } }> {
    const res = await fetch(`http://127.0.0.1:${this.port}/v1/detect?maxDetections=1000`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: image });
    return { status: res.status, body: (await res.json()) as { model?: { name: string; version: string } } };
  }

  /**
   * A client posting a photo-like image in a loop for the rest of the test. A request counts
   * only when the agent was up and ready (started and not killed) during all of it: requests
   * while the process is down fail by nature.
   */
  async startClient(): Promise<void> {
    // Stretched to the full 0–255 range like a real photo (noisyJpeg alone stays below ~150).
    const image = await sharp(await noisyJpeg(320, 240)).normalise().jpeg({ quality: 85 }).toBuffer();
    this.stopPosting = false;
    this.posting = (async () => {
      while (!this.stopPosting) {
        const gen = this.generation;
        const wasUp = this.up;
        let a: Omit<Answer, 'counted'>;
        try {
          const res = await fetch(`http://127.0.0.1:${this.port}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: image });
          const body = (await res.json()) as { model?: { name: string; version: string }; code?: string };
          a = { status: res.status, ...(body.model ? { model: `${body.model.name}@${body.model.version}` } : {}), ...(body.code ? { error: body.code } : {}) };
        } catch (err) {
          a = { status: 0, error: String(err) };
        }
        const counted = wasUp && this.up && gen === this.generation;
        this.answers.push({ ...a, counted });
        // While the agent is down, do not spin on refused connections.
        if (!counted) await new Promise((r) => setTimeout(r, 50));
      }
    })();
  }

  async stopClient(): Promise<void> {
    this.stopPosting = true;
    await this.posting;
  }

  /** Counted answers that were not 200, except those in the index windows [from, to) given (where a test expects failures). */
  failures(...expected: readonly (readonly [number, number])[]): Answer[] {
    return this.answers.filter((a, i) => a.counted && a.status !== 200 && !expected.some(([from, to]) => i >= from && i < to));
  }

  /** The standard end-of-case checks: the final retained report and the model that serves. */
  async expectOutcome(t: Test, id: string, want: { state: string; code?: string; serving: string }): Promise<DeploymentReport> {
    const r = await this.terminal(id);
    t.equal(r.state, want.state, `${id} ends ${want.state}: ${JSON.stringify(r.error ?? null)}`);
    t.equal(r.error?.code, want.code, `error code ${want.code ?? 'none'}`);
    const retained = await this.retained();
    t.match(retained, { deploymentId: id, state: want.state }, 'a subscriber arriving now gets this report retained');
    t.equal(await this.serving(), want.serving, `${want.serving} serves afterwards`);
    return r;
  }
}

/** `name@version` of a manifest's model. */
export const ref = (m: DeploymentManifest): string => `${m.model.name}@${m.model.version}`;

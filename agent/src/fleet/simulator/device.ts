import { createHash } from 'node:crypto';
import { DeploymentManifestSchema, type DeploymentManifest } from '../../core/contracts/manifest.js';
import { DEPLOYMENT_REPORT_VERSION, type DeploymentReport, type DeploymentState, type ModelRef } from '../../core/contracts/deployment.js';
import { deviceTopics, groupDesiredTopic, TOPIC_PAYLOAD_VERSION, type DeviceTopics } from '../../core/contracts/topics.js';
import type { Bus, BusFactory } from '../../core/contracts/bus.js';
import { decodeSigned, verifyEnvelope, type KeyRing } from '../../core/envelope.js';
import { toAgentError } from '../../core/errors.js';
import { simHealth, simStatus } from './payloads.js';

/** The states a successful simulated deployment reports, in order (docs/reference/design-rules.md "Deployments over MQTT"). */
const PATH: readonly DeploymentState[] = ['received', 'downloading', 'verifying', 'converting', 'warming', 'activating', 'probation', 'active'];

export interface SimDeviceOptions {
  readonly id: string;
  readonly groups: readonly string[];
  readonly prefix: string;
  readonly keys: KeyRing;
  readonly connect: BusFactory;
  /** Delay between two state reports. */
  readonly stepDelayMs: number;
  /** This device fails its next deployments at `warming` (decided by the fleet, seeded). */
  readonly fails: boolean;
  readonly now: () => number;
}

/**
 * One SIMULATED device speaking the device protocol of issue #6 (not the agent): retained
 * online status with a last will, retained health, desired (device + group) verified with
 * the trusted keys exactly like the agent (core/envelope.ts), deployment reports through the
 * states with `seq`, and the signed `rollback` request. Admission is the agent's in short:
 * a worked deployment id is ignored, an expired manifest rejected, an older sequence ignored.
 */
export class SimulatedDevice {
  private bus: Bus | undefined;
  get id(): string {
    return this.o.id;
  }
  private readonly t: DeviceTopics;
  private highestSequence = 0;
  private readonly worked = new Set<string>();
  private deviceDesiredSeen = false;
  private current: { report: DeploymentReport; timer?: NodeJS.Timeout } | undefined;
  private model: ModelRef | null = { name: 'baseline', version: '1.0.0' };
  /** Deployment reports published (for the benchmark's message count). */
  published = 0;

  constructor(private readonly o: SimDeviceOptions) {
    this.t = deviceTopics(o.prefix, o.id);
  }

  get state(): DeploymentState | undefined {
    return this.current?.report.state;
  }

  async start(): Promise<void> {
    // Board and groups ride on the offline status too (will included: both are known at connect), so a
    // controller that starts while the device is away can still target it by group and requirements.
    const will = JSON.stringify({ ...simStatus(this.o.groups, this.o.now()), state: 'offline', reason: 'will', ts: undefined });
    const bus = await this.o.connect({ clientId: this.o.id, will: { topic: this.t.status.topic, payload: will } });
    this.bus = bus;
    bus.onMessage((topic, payload) => this.onMessage(topic, payload));
    // As the agent does: after a reconnect (the broker may have published the will meanwhile)
    // the retained online status, health and the last report go out again.
    bus.onReconnect(() => {
      void bus.publish(this.t.status.topic, JSON.stringify(simStatus(this.o.groups, this.o.now())), true).catch(() => undefined);
      void bus.publish(this.t.health.topic, JSON.stringify(simHealth(this.o.id, this.o.now(), this.model)), true).catch(() => undefined);
      if (this.current) void bus.publish(this.t.deployment.topic, JSON.stringify(this.current.report), true).catch(() => undefined);
    });
    await bus.publish(this.t.status.topic, JSON.stringify(simStatus(this.o.groups, this.o.now())), true);
    await bus.publish(this.t.health.topic, JSON.stringify(simHealth(this.o.id, this.o.now(), this.model)), true);
    await bus.subscribe([this.t.desired.topic, ...this.o.groups.map((g) => groupDesiredTopic(this.o.prefix, g).topic), this.t.request('rollback').topic]);
  }

  /** Graceful: retained offline status, then disconnect. `crash`: drop the socket, the broker publishes the will. */
  async stop(crash = false): Promise<void> {
    if (this.current?.timer) clearTimeout(this.current.timer);
    const bus = this.bus;
    this.bus = undefined;
    if (!bus) return;
    if (!crash) await bus.publish(this.t.status.topic, JSON.stringify({ ...simStatus(this.o.groups, this.o.now()), state: 'offline', reason: 'graceful' }), true);
    await bus.close({ will: crash });
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic === this.t.request('rollback').topic) this.onRollback(payload);
    else this.onDesired(payload, topic === this.t.desired.topic ? 'device' : 'group');
  }

  private onDesired(raw: Buffer, from: 'device' | 'group'): void {
    if (raw.length === 0) {
      if (from === 'device') this.deviceDesiredSeen = false;
      return;
    }
    if (from === 'device') this.deviceDesiredSeen = true;
    else if (this.deviceDesiredSeen) return; // device-specific desired wins, as on the agent
    let m: DeploymentManifest;
    try {
      m = decodeSigned(verifyEnvelope(raw, this.o.keys), DeploymentManifestSchema, 'deployment manifest');
    } catch (err) {
      const e = toAgentError(err);
      this.begin(`unverified-${createHash('sha256').update(raw).digest('hex').slice(0, 12)}`, null, 'rejected', { code: e.code, message: e.message });
      return;
    }
    if (this.current?.report.deploymentId === m.deploymentId || this.worked.has(m.deploymentId)) return;
    if (Date.parse(m.expiresAt) <= this.o.now()) {
      this.begin(m.deploymentId, m.model, 'rejected', { code: 'MANIFEST_EXPIRED', message: `The manifest expired at ${m.expiresAt}.` });
      return;
    }
    if (m.sequence <= this.highestSequence) return; // replayed: never overwrite the real report
    this.highestSequence = m.sequence;
    this.worked.add(m.deploymentId);
    if (this.current && this.current.report.state !== 'active' && PATH.includes(this.current.report.state)) {
      if (this.current.timer) clearTimeout(this.current.timer);
      this.report({ ...this.current.report, state: 'superseded', stage: 'superseded' });
    }
    this.begin(m.deploymentId, m.model, 'received');
  }

  private begin(deploymentId: string, model: ModelRef | null, state: DeploymentState, error?: { code: string; message: string }): void {
    if (this.current?.timer) clearTimeout(this.current.timer);
    const ts = new Date(this.o.now()).toISOString();
    const report: DeploymentReport = {
      v: DEPLOYMENT_REPORT_VERSION, deploymentId, source: 'mqtt', state, stage: state, progress: null, model, previous: this.model,
      startedAt: ts, updatedAt: ts, seq: 0, ...(error ? { error } : {}),
    };
    this.current = { report };
    this.report(report);
    if (state === 'received') this.schedule();
  }

  private schedule(): void {
    const cur = this.current;
    if (!cur) return;
    cur.timer = setTimeout(() => {
      const i = PATH.indexOf(cur.report.state);
      const next = PATH[i + 1];
      if (!next || this.current !== cur) return;
      if (next === 'warming' && this.o.fails) {
        this.report({ ...cur.report, state: 'failed', stage: 'warm', error: { code: 'DEPLOYMENT_PREPARE_FAILED', message: 'SIMULATED failure injected by --fail-rate.' } });
        return;
      }
      if (next === 'active' && cur.report.model) this.model = cur.report.model;
      this.report({ ...cur.report, state: next, stage: next });
      if (next !== 'active') this.schedule();
      else void this.bus?.publish(this.t.health.topic, JSON.stringify(simHealth(this.o.id, this.o.now(), this.model)), true).catch(() => undefined);
    }, this.o.stepDelayMs);
  }

  private onRollback(raw: Buffer): void {
    let params: Record<string, unknown> = {};
    let transaction: string | null = null;
    try {
      const req = JSON.parse(verifyEnvelope(raw, this.o.keys).toString('utf8')) as { v?: number; op?: string; transaction?: string; deviceId?: string; expiresAt?: string; params?: Record<string, unknown> };
      transaction = req.transaction ?? null;
      // The agent's checks in short (rollout/requests.ts): v2, bound to this op and device, unexpired.
      if (req.v !== 2 || req.op !== 'rollback') throw new Error('request is not a v2 rollback request');
      if (req.deviceId !== this.o.id || !req.expiresAt || Date.parse(req.expiresAt) <= this.o.now()) throw new Error('request is for another device or expired');
      params = req.params ?? {};
    } catch (err) {
      void this.respond(transaction, { code: toAgentError(err).code, message: (err as Error).message });
      return;
    }
    const cur = this.current;
    const id = typeof params.deploymentId === 'string' ? params.deploymentId : undefined;
    let outcome = 'unchanged';
    if (cur && (id === undefined || cur.report.deploymentId === id) && (PATH.includes(cur.report.state) || cur.report.state === 'failed')) {
      if (cur.timer) clearTimeout(cur.timer);
      if (cur.report.state !== 'failed') {
        outcome = cur.report.state === 'active' ? 'rolled_back' : 'canceled';
        this.model = cur.report.previous;
        this.report({ ...cur.report, state: outcome === 'rolled_back' ? 'rolled_back' : 'canceled', stage: 'rollback-request' });
      }
    }
    void this.respond(transaction, undefined, outcome);
  }

  /** Answers like the agent's rollback op: the model serving afterwards and what was done. */
  private async respond(transaction: string | null, error?: { code: string; message: string }, outcome = 'unchanged'): Promise<void> {
    const body = { v: TOPIC_PAYLOAD_VERSION, transaction, status: error ? 'error' : 'ok', ...(error ? { error } : { data: { serving: this.model, outcome } }) };
    await this.bus?.publish(this.t.response('rollback').topic, JSON.stringify(body), false).catch(() => undefined);
  }

  private report(r: DeploymentReport): void {
    if (!this.current) return;
    const next: DeploymentReport = { ...r, seq: this.current.report === r ? r.seq : this.current.report.seq + 1, updatedAt: new Date(this.o.now()).toISOString() };
    this.current.report = next;
    this.published++;
    void this.bus?.publish(this.t.deployment.topic, JSON.stringify(next), true).catch(() => undefined);
  }
}

import path from 'node:path';
import { AgentError, toAgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Component } from '../core/lifecycle.js';
import type { Servable } from '../core/contracts/model.js';
import type { DeploymentManifest } from '../core/contracts/manifest.js';
import { DeploymentManifestSchema } from '../core/contracts/manifest.js';
import { isPostActivation, isTerminal, type DeploymentReport, type DeploymentState, type ModelRef } from '../core/contracts/deployment.js';
import { decodeSigned, verifyEnvelope, type KeyRing } from '../core/envelope.js';
import { mkdirp, readJsonMaybe, removePath, sha256, sha256File, writeJsonAtomic, fsp } from '../platform/fs.js';
import { sleep, type Clock } from '../platform/clock.js';
import { download } from './download.js';
import {
  EMPTY_MEMORY,
  admit,
  deadlinesFor,
  failureOutcome,
  newRecord,
  probationSecFor,
  remember,
  resumePlan,
  toReport,
  transition,
  withProgress,
  type DeploymentRecord,
  type DeviceFacts,
  type RolloutMemory,
  type StateDeadlines,
} from './machine.js';

/**
 * What the rollout executor needs from the rest of the agent, wired by the composition root
 * (compose/daemon.ts): the model store (intake, issue #4), conversion (prepare, issue #4) and
 * the inference service (warm, activate, rollback, serving stats, issue #5). Features never
 * import each other (docs/reference/design-rules.md "Layout and imports"); this interface is the seam.
 */
export interface PackageIdentity {
  readonly name: string;
  readonly version: string;
  readonly packageSha256: string;
}

export interface ServingStats {
  /** The active model answers /readyz. */
  readonly ready: boolean;
  /**
   * Monotonic counters since the inference service started: requests the model had to answer
   * and the failures it is responsible for — a client's bad requests (4xx) are in neither.
   */
  readonly requests: number;
  readonly errors: number;
}

export interface DeploymentHooks {
  /** The model serving right now (becomes the report's `previous`). */
  currentModel(): ModelRef | null;
  /** Verify and store a package (models/ intake); returns what model.json names. */
  intake(packagePath: string, sha256: string, signal: AbortSignal): Promise<PackageIdentity>;
  /** Convert / prepare the stored package for this board (convert/ or models/onnx). */
  prepare(name: string, version: string, signal: AbortSignal): Promise<Servable>;
  /** Load beside the serving model and run warm-up + golden check; must not switch traffic. */
  warm(servable: Servable, signal: AbortSignal): Promise<void>;
  /** Switch traffic to the warmed model (old one kept for rollback). */
  activate(servable: Servable, signal: AbortSignal): Promise<void>;
  /** Return to the model that served before the last activation; null when there is none. */
  rollbackToPrevious(): Promise<ModelRef | null>;
  servingStats(): ServingStats;
}

export interface RolloutDefaults {
  readonly deadlines: StateDeadlines;
  readonly probationSec: number;
  readonly maxDownloadBytes: number;
  readonly maxErrorRate: number;
  /** How often serving stats are read during probation. */
  readonly probationPollMs: number;
}

export interface RolloutExecutorOptions {
  readonly stateDir: string;
  readonly hooks: DeploymentHooks;
  readonly keys: KeyRing;
  readonly facts: () => Promise<DeviceFacts>;
  /** Publish a deployment report (retained, QoS 1): the MQTT client queues it while offline. */
  readonly publish: (report: DeploymentReport) => Promise<void>;
  /** Notable non-report events (ignored/rejected desired while busy, replays). */
  readonly event: (type: string, message: string, data?: Record<string, unknown>) => void;
  readonly defaults: RolloutDefaults;
  readonly log: Logger;
  readonly clock: Clock;
}

type StopReason = 'superseded' | 'stopping' | 'canceled';

interface Running {
  readonly id: string;
  readonly ac: AbortController;
  readonly done: Promise<void>;
}

class StateTimeout extends Error {}

const DOWNLOAD_ATTEMPTS = 5;

export class RolloutExecutor implements Component {
  readonly name = 'rollout';
  private mem: RolloutMemory = EMPTY_MEMORY;
  private running: Running | undefined;
  private queue: Promise<void> = Promise.resolve();
  private deviceDesiredSeen = false;
  /** Persist in call order: a slow progress write must never land after a later transition. */
  private writes: Promise<void> = Promise.resolve();
  private readonly dir: string;
  private readonly stateFile: string;
  /** Waiters for the end of deployments started here (the inbox queues on them); recent ones kept. */
  private readonly endings = new Map<string, { readonly promise: Promise<DeploymentRecord>; readonly resolve: (r: DeploymentRecord) => void }>();

  constructor(private readonly o: RolloutExecutorOptions) {
    this.dir = path.join(o.stateDir, 'deployments');
    this.stateFile = path.join(this.dir, 'state.json');
  }

  get memory(): RolloutMemory {
    return this.mem;
  }

  async start(): Promise<void> {
    await mkdirp(this.dir, 0o750);
    this.mem = (await readJsonMaybe<RolloutMemory>(this.stateFile)) ?? EMPTY_MEMORY;
    const cur = this.mem.current;
    if (cur && !isTerminal(cur.state)) {
      const plan = resumePlan(cur, this.o.clock.now());
      this.o.log.info({ deploymentId: cur.deploymentId, state: cur.state, plan }, 'resuming deployment after restart');
      if (plan.action === 'expire') {
        this.serial(async () => {
          if (plan.outcome === 'rolled_back') await this.o.hooks.rollbackToPrevious().catch(() => null);
          await this.commit(
            transition(cur, plan.outcome, this.o.clock.now(), this.o.defaults.deadlines, {
              error: { code: 'DEPLOYMENT_TIMEOUT', message: `The ${cur.state} state passed its deadline ${cur.deadlineAt ?? ''} while the agent was down.` },
            }),
          );
        });
      } else {
        this.serial(async () => {
          this.launch(cur);
          await Promise.resolve();
        });
      }
    }
  }

  /** Stop without ending the deployment: it stays persisted and resumes at the next start. */
  async stop(): Promise<void> {
    const r = this.running;
    if (r) {
      r.ac.abort('stopping' satisfies StopReason);
      await r.done;
    }
    await this.queue;
  }

  /** Resolves when no deployment is running and no message is being handled. */
  async idle(): Promise<void> {
    for (;;) {
      const q = this.queue;
      await q;
      const r = this.running;
      if (r) await r.done;
      if (q === this.queue && !this.running) return;
    }
  }

  /** Re-send the current or last terminal report (after every reconnect; docs/reference/fleet-rollouts.md "Lessons from other updaters", lost status). */
  async republish(): Promise<void> {
    const rec = this.mem.current ?? this.mem.lastTerminal;
    if (rec) await this.o.publish(toReport(rec));
  }

  private serial(fn: () => Promise<void>): void {
    this.queue = this.queue.then(fn).catch((err: unknown) => this.o.log.error({ err }, 'rollout handler failed'));
  }

  /** A message on `{p}/devices/{id}/desired` or `{p}/groups/{g}/desired`. */
  handleDesired(raw: Buffer, from: 'device' | 'group'): Promise<void> {
    this.serial(() => this.onDesired(raw, from));
    return this.queue;
  }

  private async onDesired(raw: Buffer, from: 'device' | 'group'): Promise<void> {
    if (raw.length === 0) {
      if (from === 'device') this.deviceDesiredSeen = false; // retained desired cleared
      return;
    }
    if (from === 'device') this.deviceDesiredSeen = true;
    else if (this.deviceDesiredSeen) {
      this.o.event('desired.ignored', 'A group desired arrived but a device-specific desired exists (device-specific wins).');
      return;
    }
    let manifest: DeploymentManifest;
    try {
      // Signature over the exact bytes first; nothing inside is read before it verifies (docs/reference/design-rules.md "Deployments over MQTT").
      manifest = decodeSigned(verifyEnvelope(raw, this.o.keys), DeploymentManifestSchema, 'deployment manifest');
    } catch (err) {
      const e = toAgentError(err);
      await this.reject(`unverified-${sha256(raw).slice(0, 12)}`, null, e.code, e.message);
      return;
    }
    const now = this.o.clock.now();
    const verdict = admit(this.mem, manifest, now, await this.o.facts());
    if (verdict.verdict === 'ignore') {
      this.o.log.debug({ deploymentId: manifest.deploymentId }, verdict.reason);
      return;
    }
    if (verdict.verdict === 'reject') {
      if (verdict.code === 'MANIFEST_REPLAYED') {
        // A stale/replayed manifest must not overwrite the retained report of the real deployment.
        this.o.event('desired.replayed', verdict.message, { deploymentId: manifest.deploymentId, sequence: manifest.sequence });
        this.o.log.warn({ deploymentId: manifest.deploymentId }, verdict.message);
        return;
      }
      await this.reject(manifest.deploymentId, manifest, verdict.code, verdict.message);
      return;
    }
    await this.supersedeCurrent(manifest.deploymentId);
    const rec = newRecord({
      deploymentId: manifest.deploymentId,
      source: 'mqtt',
      manifest,
      model: manifest.model,
      previous: this.o.hooks.currentModel(),
      now,
      deadlines: this.deadlines(manifest),
    });
    await this.commit(rec);
    this.launch(rec);
  }

  /**
   * Entry point for a package dropped into the state dir's inbox (scp/Ansible): the same flow
   * (verify → convert → warm → activate → probation) and reports, with a local deployment id.
   * The inbox watcher (models/, issue #4) calls this. Returns the deployment id.
   */
  deployLocal(packagePath: string): Promise<string> {
    const id = `inbox-${new Date(this.o.clock.now()).toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 15)}-${sha256(packagePath + String(this.o.clock.now())).slice(0, 8)}`;
    this.ending(id);
    this.serial(async () => {
      await this.supersedeCurrent(id);
      const rec = newRecord({
        deploymentId: id,
        source: 'inbox',
        manifest: null,
        localPackage: packagePath,
        model: null,
        previous: this.o.hooks.currentModel(),
        now: this.o.clock.now(),
        deadlines: this.deadlines(null),
      });
      await this.commit(rec);
      this.launch(rec);
    });
    return this.queue.then(() => id);
  }

  /**
   * The terminal record of deployment `id`, once it has one: the inbox hands the next dropped
   * package over only when the previous one ended, and cleans up after a deployment that ended
   * before its intake consumed the package (superseded, canceled).
   */
  ended(id: string): Promise<DeploymentRecord> {
    const last = this.mem.lastTerminal;
    if (last?.deploymentId === id && !this.endings.has(id)) return Promise.resolve(last);
    return this.ending(id).promise;
  }

  /** The inbox deployment (current, or the last one ended) working on `packagePath`, if any. */
  localDeploymentOf(packagePath: string): string | undefined {
    for (const r of [this.mem.current, this.mem.lastTerminal]) if (r?.localPackage === packagePath) return r.deploymentId;
    return undefined;
  }

  private ending(id: string): { readonly promise: Promise<DeploymentRecord>; readonly resolve: (r: DeploymentRecord) => void } {
    let e = this.endings.get(id);
    if (!e) {
      let resolve: (r: DeploymentRecord) => void = () => undefined;
      const promise = new Promise<DeploymentRecord>((r) => (resolve = r));
      e = { promise, resolve };
      this.endings.set(id, e);
      // Bounded: the oldest waiters go first (their promises stay valid for whoever holds them).
      for (const k of this.endings.keys()) {
        if (this.endings.size <= 100) break;
        this.endings.delete(k);
      }
    }
    return e;
  }

  /**
   * Request op `rollback`. Without `deploymentId` (an operator's request): cancel a running
   * deployment and return to the previous model. With it (what the fleet controller sends when
   * it rolls a wave back): undo THAT deployment only. A deployment that never activated here
   * (failed, rejected, canceled before activation) or that this device never worked left the
   * serving model alone, so there is nothing to undo: going back anyway would drop the last
   * good model for the one before it. Returns the model serving afterwards.
   */
  async rollback(deploymentId?: string): Promise<ModelRef | null> {
    const r = this.running;
    if (r && deploymentId !== undefined && r.id !== deploymentId) {
      // A newer deployment is working here and will replace what `deploymentId` put in place;
      // switching models under it would make its probation judge the wrong model.
      this.o.log.info({ deploymentId, running: r.id }, 'rollback: a newer deployment is in progress; nothing to undo');
      return this.o.hooks.currentModel();
    }
    if (r) {
      r.ac.abort('canceled' satisfies StopReason);
      await r.done;
      const ended = this.mem.lastTerminal;
      // Canceled after activation: the run already restored the previous model; do not go back twice.
      // Canceled before activation with an id: the old model never stopped serving.
      if (ended?.deploymentId === r.id && ended.state === 'canceled' && (deploymentId !== undefined || ended.stage === 'activating' || ended.stage === 'probation')) {
        const now = this.o.hooks.currentModel();
        if (now || deploymentId !== undefined) return now;
      }
    }
    const last = this.mem.lastTerminal;
    if (deploymentId !== undefined && (last?.deploymentId !== deploymentId || last.state !== 'active')) {
      // Also a repeated rollback of the same deployment (already rolled_back): the service's
      // rollback is a toggle, so going back again would reinstate the bad model.
      this.o.log.info({ deploymentId, last: last ? { deploymentId: last.deploymentId, state: last.state } : null }, 'rollback: that deployment is not what serves here; nothing to undo');
      return this.o.hooks.currentModel();
    }
    // The active deployment this rollback undoes, when its model is what serves now.
    const serving = this.o.hooks.currentModel();
    const undo = last?.state === 'active' && serving && last.model?.name === serving.name && last.model.version === serving.version ? last : undefined;
    // After an agent restart the service has no previous model in memory; the record still names it.
    const back = (await this.o.hooks.rollbackToPrevious()) ?? (undo?.previous ? await this.activateModel(undo.previous) : null);
    if (!back) throw new AgentError('NO_PREVIOUS_MODEL', 'There is no previous model to roll back to.', { hint: 'Deploy a model instead.' });
    if (undo) await this.commit(transition(undo, 'rolled_back', this.o.clock.now(), this.o.defaults.deadlines, { stage: 'rollback-request' }));
    return back;
  }

  /** Prepare, warm up and switch to a stored model (a rollback target the service no longer holds). */
  private async activateModel(m: ModelRef): Promise<ModelRef> {
    const d = this.o.defaults.deadlines;
    const signal = AbortSignal.timeout((d.converting + d.warming + d.activating) * 1000);
    const servable = await this.o.hooks.prepare(m.name, m.version, signal);
    await this.o.hooks.warm(servable, signal);
    await this.o.hooks.activate(servable, signal);
    return { name: m.name, version: m.version };
  }

  private async supersedeCurrent(byId: string): Promise<void> {
    const r = this.running;
    if (!r) return;
    this.o.log.info({ deploymentId: r.id, by: byId }, 'superseding the running deployment');
    r.ac.abort('superseded' satisfies StopReason);
    await r.done;
  }

  private async reject(id: string, manifest: DeploymentManifest | null, code: string, message: string): Promise<void> {
    this.o.log.warn({ deploymentId: id, code }, `desired rejected: ${message}`);
    // A deployment still in progress (non-terminal record) keeps its retained report; say it on
    // events instead. Checking the record, not the task: the task outlives its terminal report
    // for a moment, and a desired rejected in that window must still get its own report.
    if (this.mem.current) {
      this.o.event('desired.rejected', message, { deploymentId: id, code });
      return;
    }
    const now = this.o.clock.now();
    const rec = newRecord({ deploymentId: id, source: 'mqtt', manifest, model: manifest?.model ?? null, previous: this.o.hooks.currentModel(), now, deadlines: this.o.defaults.deadlines });
    await this.commit(transition(rec, 'rejected', now, this.o.defaults.deadlines, { stage: 'admission', error: { code, message } }));
  }

  private deadlines(m: DeploymentManifest | null): StateDeadlines {
    return deadlinesFor(this.o.defaults.deadlines, m, probationSecFor(m, this.o.defaults.probationSec));
  }

  /** Persist first (atomic), then publish: state is never lost, reports may lag. */
  private async commit(rec: DeploymentRecord): Promise<void> {
    this.mem = remember(this.mem, rec);
    const snapshot = this.mem;
    const write = this.writes.then(() => writeJsonAtomic(this.stateFile, snapshot));
    this.writes = write.catch(() => undefined);
    await write;
    if (isTerminal(rec.state)) this.endings.get(rec.deploymentId)?.resolve(rec);
    this.o.publish(toReport(rec)).catch((err: unknown) => this.o.log.warn({ err: String(err), deploymentId: rec.deploymentId }, 'deployment report not sent'));
  }

  private launch(rec: DeploymentRecord): void {
    const ac = new AbortController();
    const done = this.run(rec, ac.signal)
      .catch((err: unknown) => this.o.log.error({ err, deploymentId: rec.deploymentId }, 'deployment run crashed'))
      .finally(() => {
        if (this.running?.ac === ac) this.running = undefined;
      });
    this.running = { id: rec.deploymentId, ac, done };
  }

  private async run(start: DeploymentRecord, stop: AbortSignal): Promise<void> {
    const d = this.deadlines(start.manifest);
    const work = path.join(this.dir, start.deploymentId.replace(/[^A-Za-z0-9._-]/g, '_'));
    await mkdirp(work, 0o750);
    let rec = start;
    let stateAc = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const order: DeploymentState[] = ['received', 'downloading', 'verifying', 'converting', 'warming', 'activating', 'probation'];
    const from = order.indexOf(start.state);
    // Enter `to` unless resuming inside it; arm its deadline either way.
    const enter = async (to: DeploymentState, stage?: string): Promise<AbortSignal> => {
      if (rec.state !== to) {
        rec = transition(rec, to, this.o.clock.now(), d, { ...(stage ? { stage } : {}) });
        await this.commit(rec);
      }
      if (timer) this.o.clock.clearTimeout(timer);
      stateAc = new AbortController();
      const left = Math.max(0, Date.parse(rec.deadlineAt ?? '') - this.o.clock.now());
      const sac = stateAc;
      timer = this.o.clock.setTimeout(() => sac.abort(new StateTimeout()), Number.isNaN(left) ? 0 : left);
      return AbortSignal.any([stop, stateAc.signal]);
    };
    let lastPct = -1;
    const progress = (p: number, stage: string): void => {
      const pct = Math.floor(p * 10);
      if (pct === lastPct) return; // at most every 10 %: reports are retained QoS 1, keep them few
      lastPct = pct;
      rec = withProgress(rec, Math.min(1, p), stage, this.o.clock.now());
      this.commit(rec).catch((err: unknown) => this.o.log.warn({ err: String(err) }, 'progress not persisted'));
    };
    const m = start.manifest;
    const pkg = m ? path.join(work, 'package.part') : (start.localPackage ?? '');
    let servable: Servable | undefined;
    try {
      if (m && from <= order.indexOf('downloading')) {
        const signal = await enter('downloading', 'download');
        const facts = await this.o.facts();
        const need = m.package.size + (m.requires?.minFreeDiskBytes ?? 0);
        const resumed = (await fsp.stat(pkg).catch(() => undefined))?.size ?? 0;
        if (facts.freeDiskBytes + resumed < need) {
          throw new AgentError('DISK_SPACE_LOW', `Only ${facts.freeDiskBytes} bytes free in the state dir; ${need} needed.`, { hint: 'Free disk space on the device.' });
        }
        lastPct = -1;
        // Transient failures retry with Range from the partial file, within the state's deadline.
        for (let attempt = 1; ; attempt++) {
          try {
            const r = await download({
              url: m.package.url,
              dest: pkg,
              size: m.package.size,
              maxBytes: this.o.defaults.maxDownloadBytes,
              signal,
              onProgress: (got, total) => progress(got / total, attempt > 1 ? `download (attempt ${attempt})` : 'download'),
            });
            if (r.resumedFrom > 0) this.o.log.info({ deploymentId: rec.deploymentId, resumedFrom: r.resumedFrom }, 'download resumed');
            break;
          } catch (err) {
            if (!(err instanceof AgentError) || err.code !== 'DOWNLOAD_FAILED' || attempt >= DOWNLOAD_ATTEMPTS || signal.aborted) throw err;
            this.o.log.warn({ deploymentId: rec.deploymentId, attempt, err: err.message }, 'download interrupted; retrying with Range');
            await sleep(Math.min(30000, 250 * 2 ** attempt), signal, this.o.clock);
          }
        }
      }
      let identity: PackageIdentity | undefined;
      if (from <= order.indexOf('verifying')) {
        const signal = await enter('verifying', 'sha256');
        const actual = await sha256File(pkg);
        signal.throwIfAborted();
        if (m && actual !== m.package.sha256) {
          await removePath(pkg);
          throw new AgentError('DOWNLOAD_SHA_MISMATCH', `The package has sha256 ${actual}, the manifest says ${m.package.sha256}.`, {
            hint: 'The file on the server differs from the one the manifest was made for; re-publish the manifest or the package.',
          });
        }
      }
      {
        const signal = from <= order.indexOf('converting') ? await enter('converting', 'intake') : await enter(rec.state);
        identity = await this.o.hooks.intake(pkg, m?.package.sha256 ?? (await sha256File(pkg)), signal);
        if (m && (identity.name !== m.model.name || identity.version !== m.model.version)) {
          throw new AgentError('DEPLOYMENT_PREPARE_FAILED', `The package contains ${identity.name} ${identity.version}, the manifest names ${m.model.name} ${m.model.version}.`, {
            hint: 'Publish a manifest whose model matches the package model.json.',
          });
        }
        if (!rec.model) {
          rec = { ...rec, model: { name: identity.name, version: identity.version } };
        }
        if (rec.state === 'converting') progress(0.5, 'prepare');
        servable = await this.o.hooks.prepare(identity.name, identity.version, signal);
      }
      if (from <= order.indexOf('warming')) {
        const signal = await enter('warming', 'warm-up');
        await this.o.hooks.warm(servable, signal);
      }
      if (from <= order.indexOf('activating') || rec.state === 'probation') {
        const signal = await enter(rec.state === 'probation' ? 'probation' : 'activating', rec.state === 'probation' ? 'resume' : 'switch');
        await this.o.hooks.activate(servable, signal);
      }
      {
        const signal = await enter('probation', 'serving');
        await this.probation(probationSecFor(m, this.o.defaults.probationSec), m?.policy?.maxErrorRate ?? this.o.defaults.maxErrorRate, signal);
      }
      rec = transition(rec, 'active', this.o.clock.now(), d, { stage: 'done' });
      await this.commit(rec);
    } catch (err) {
      const reason: unknown = stop.aborted ? stop.reason : undefined;
      if (reason === 'stopping') {
        this.o.log.info({ deploymentId: rec.deploymentId, state: rec.state }, 'deployment paused for shutdown; resumes at next start');
        return;
      }
      const post = isPostActivation(rec.state);
      if (reason === 'superseded' || reason === 'canceled') {
        if (post) await this.o.hooks.rollbackToPrevious().catch((e: unknown) => this.o.log.error({ err: e }, 'rollback after supersede failed'));
        rec = transition(rec, reason, this.o.clock.now(), d, {
          stage: rec.state,
          error:
            reason === 'superseded'
              ? { code: 'DEPLOYMENT_SUPERSEDED', message: `A newer desired replaced this deployment during ${rec.state}.` }
              : { code: 'CANCELED', message: `Canceled during ${rec.state}.` },
        });
        await this.commit(rec);
        return;
      }
      const timedOut = stateAc.signal.aborted && stateAc.signal.reason instanceof StateTimeout;
      const e = timedOut
        ? new AgentError('DEPLOYMENT_TIMEOUT', `The ${rec.state} state ran past its deadline ${rec.deadlineAt ?? ''}.`)
        : toAgentError(err);
      const outcome = failureOutcome(rec.state);
      let code: string = e.code;
      let message = e.message;
      if (outcome === 'rolled_back') {
        if (rec.state === 'activating' && !timedOut) code = 'DEPLOYMENT_ACTIVATE_FAILED';
        const back = await this.o.hooks.rollbackToPrevious().catch((re: unknown) => {
          message += ` Rollback failed too: ${toAgentError(re).message}`;
          return null;
        });
        message += back ? ` Rolled back to ${back.name} ${back.version}.` : '';
      }
      this.o.log.warn({ deploymentId: rec.deploymentId, state: rec.state, code }, message);
      rec = transition(rec, outcome, this.o.clock.now(), d, { stage: rec.state, error: { code, message } });
      await this.commit(rec);
    } finally {
      if (timer) this.o.clock.clearTimeout(timer);
      if (isTerminal(rec.state)) await removePath(work).catch(() => undefined);
    }
  }

  /** Healthy serving for `sec` seconds: ready throughout and error ratio within the limit. */
  private async probation(sec: number, maxErrorRate: number, signal: AbortSignal): Promise<void> {
    const base = this.o.hooks.servingStats();
    const end = this.o.clock.now() + sec * 1000;
    const check = (): void => {
      const s = this.o.hooks.servingStats();
      const req = s.requests - base.requests;
      const errs = s.errors - base.errors;
      if (!s.ready) throw new AgentError('DEPLOYMENT_PROBATION_FAILED', 'The new model stopped being ready during probation.');
      if (req > 0 && errs / req > maxErrorRate) {
        throw new AgentError('DEPLOYMENT_PROBATION_FAILED', `Inference error rate ${(errs / req).toFixed(3)} (${errs}/${req}) exceeded ${maxErrorRate} during probation.`);
      }
    };
    for (;;) {
      signal.throwIfAborted();
      check();
      const left = end - this.o.clock.now();
      if (left <= 0) break;
      await sleep(Math.min(left, this.o.defaults.probationPollMs), signal, this.o.clock);
    }
  }
}

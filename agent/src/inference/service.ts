import type { Servable } from '../core/contracts/model.js';
import { AgentError, toAgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { autoMaxBatch, Batcher } from './batcher.js';
import { TensorPool } from './tensor-pool.js';
import type { EngineFactory } from './engine-factory.js';
import { compareGolden, type GoldenSet } from './golden.js';
import type { InferenceMetrics } from './metrics.js';
import { ModelRuntime, type DetectOptions, type DetectResult } from './model-runtime.js';
import { LatencyWindow, type WindowStats } from './window.js';
import { Semaphore } from './semaphore.js';

/** What the rollout flow (MQTT) and the CLI/admin route use. */
export interface ActivateOptions {
  /** Inference runs on a zero tensor before the switch (default: inference.warmupRuns). */
  readonly warmupRuns?: number;
  /** Golden images with expected detections; a mismatch keeps the old model (issue #5 §5). */
  readonly golden?: GoldenSet;
}

/** One start-model candidate, resolved (InferenceService.activateFirst). */
export interface StartChoice {
  readonly servable: Servable;
  readonly options?: ActivateOptions;
  /**
   * false: do not report this switch to onSwitch (default true). A fallback started because the
   * recorded model failed transiently must not replace the record, or the deployed model never
   * comes back on later boots.
   */
  readonly record?: boolean;
}

export interface ModelRef {
  readonly name: string;
  readonly version: string;
  readonly backend: 'onnxruntime' | 'tensorrt';
}

export interface ActivationResult {
  readonly active: ModelRef;
  readonly previous: ModelRef | null;
  readonly warmupRuns: number;
  readonly goldenCases: number;
  readonly loadMs: number;
}

export interface InferenceStatus {
  readonly ready: boolean;
  readonly state: 'empty' | 'activating' | 'serving';
  readonly active: ModelRef | null;
  /** The model a rollback returns to. */
  readonly previous: ModelRef | null;
  /** Everything holding an engine now: the active model plus any still draining. */
  readonly loaded: readonly (ModelRef & { readonly role: 'active' | 'draining'; readonly inflight: number })[];
  readonly queueDepth: number;
}

/**
 * The typed surface for the rollout engineer (MQTT deployments) and the CLI:
 * activate (load beside → warm-up → golden → atomic switch → drain → unload), rollback to the
 * previous model, status and interval statistics.
 */
export interface InferenceControl {
  activate(servable: Servable, options?: ActivateOptions): Promise<ActivationResult>;
  rollback(): Promise<ActivationResult>;
  status(): InferenceStatus;
  /** Requests, errors by code and latency percentiles over the last `windowMs`. */
  stats(windowMs: number): WindowStats;
}

export interface InferenceServiceOptions {
  readonly engineFactory: EngineFactory;
  readonly metrics: InferenceMetrics;
  readonly log: Logger;
  /** Dynamic batch limit (inference.maxBatch); 0 = autoMaxBatch(backend). */
  readonly maxBatch: number;
  readonly batchDelayMs: number;
  readonly maxQueue: number;
  readonly maxPixels: number;
  readonly warmupRuns: number;
  readonly maxDetections: number;
  /** Longest wait for in-flight requests on a replaced model before it is unloaded anyway. */
  readonly drainTimeoutMs: number;
  /** `beside` (default): load the new model next to the old one (no gap). `replace`: unload first (one model in memory). */
  readonly swapMode?: 'beside' | 'replace';
  /**
   * Low-priority (evaluation) requests decoding or inferring at once (default 3: enough to keep
   * a two-deep engine pipeline fed while one more decodes).
   */
  readonly lowLaneLimit?: number;
  /** Called after every switch of the serving model (activation or rollback), e.g. to remember it across restarts. */
  readonly onSwitch?: (active: ModelRef) => void;
}

const ref = (s: Servable): ModelRef => ({ name: s.model.name, version: s.model.version, backend: s.kind });

export class InferenceService implements InferenceControl {
  private active: ModelRuntime | null = null;
  private previous: { servable: Servable; options: ActivateOptions } | null = null;
  private current: { options: ActivateOptions } | null = null;
  private readonly draining = new Set<ModelRuntime>();
  private chain: Promise<unknown> = Promise.resolve();
  private activating = 0;
  private readonly window = new LatencyWindow(20_000);
  /** Monotonic counters and the latencies since the last drain, for health telemetry and probation. */
  private readonly totals = { requests: 0, errors: 0, serverErrors: 0 };
  private recent: number[] = [];
  private closed = false;
  private readonly lowLane: Semaphore;

  constructor(private readonly o: InferenceServiceOptions) {
    this.lowLane = new Semaphore(o.lowLaneLimit ?? 3, o.maxQueue);
    o.metrics.ready.collect(() => (this.active ? 1 : 0));
    o.metrics.pending.collect(() => this.queueDepth());
  }

  private queueDepth(): number {
    let d = this.active?.parts.batcher.depth ?? 0;
    for (const r of this.draining) d += r.parts.batcher.depth;
    return d;
  }

  get ready(): boolean {
    return this.active !== null;
  }

  /** Activations run one at a time, in call order. */
  activate(servable: Servable, options: ActivateOptions = {}): Promise<ActivationResult> {
    const run = this.chain.then(() => this.doActivate(servable, options));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Takes its place in the activation order NOW, then resolves and activates the first candidate
   * that works (the next ones are fallbacks). For the start model: resolving may take a while
   * (store lookup, conversion), and an activation requested meanwhile — a deployment resuming
   * after a restart — must land after it, not be overwritten by it.
   */
  activateFirst(candidates: readonly (() => Promise<StartChoice>)[]): Promise<ActivationResult> {
    const run = this.chain.then(async () => {
      let last: unknown = new AgentError('MODEL_NOT_FOUND', 'No model to activate.');
      for (const resolve of candidates) {
        // Stopping: resolving the next candidate may start a long conversion nobody waits for.
        if (this.closed) throw new AgentError('CANCELED', 'The inference service is stopping.');
        try {
          const r = await resolve();
          return await this.doActivate(r.servable, r.options ?? {}, r.record ?? true);
        } catch (err) {
          if (toAgentError(err).code === 'CANCELED') throw err;
          last = err;
          this.o.log.error({ err: toAgentError(err).toJSON() }, 'start model activation failed; trying the next candidate');
        }
      }
      throw toAgentError(last);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  rollback(): Promise<ActivationResult> {
    const prev = this.previous;
    if (!prev) return Promise.reject(new AgentError('NO_PREVIOUS_MODEL', 'There is no previous model to roll back to.', { hint: 'Activate a model by name and version instead.' }));
    return this.activate(prev.servable, prev.options);
  }

  /**
   * Restart the backend in place (MQTT `restart-inference`): a fresh engine for the serving
   * model (new ONNX Runtime workers / a new trt-runner), switched in like any activation, so
   * `swapMode` decides what requests see (beside: no gap; replace: 503 + Retry-After while it
   * loads). The rollback target is kept: a restart is not a model change.
   */
  restart(): Promise<ActivationResult> {
    const run = this.chain.then(async () => {
      const rt = this.active;
      if (!rt || !this.current) {
        throw new AgentError('MODEL_NOT_READY', 'No model is serving, so there is no inference backend to restart.', {
          hint: 'Activate a model first (`jetson-agent models activate NAME@VERSION` or a rollout).',
        });
      }
      const keep = this.previous;
      const r = await this.doActivate(rt.servable, this.current.options);
      this.previous = keep;
      return { ...r, previous: keep ? ref(keep.servable) : null };
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async doActivate(servable: Servable, options: ActivateOptions, record = true): Promise<ActivationResult> {
    if (this.closed) throw new AgentError('CANCELED', 'The inference service is stopping.');
    const t0 = performance.now();
    const m = servable.model;
    const log = this.o.log.child({ model: `${m.name}@${m.version}` });
    const warmupRuns = options.warmupRuns ?? this.o.warmupRuns;
    this.activating++;
    const old = this.active;
    // Memory permitting only one model (Nano): stop taking requests (503 + Retry-After), drain
    // and unload the old model, then load the new one; the gap lasts load + warm-up.
    const replace = this.o.swapMode === 'replace' && old !== null;
    if (replace) {
      this.active = null;
      await this.retire(old);
    }
    let runtime: ModelRuntime;
    try {
      runtime = await this.prepare(servable, warmupRuns, options.golden);
    } catch (err) {
      this.activating--;
      this.o.metrics.activations.inc({ result: 'failed' });
      const e = toAgentError(err);
      if (replace) {
        log.warn({ err: e.toJSON() }, 'activation failed; reloading the previous model');
        try {
          this.active = await this.prepare(old.servable, 1, undefined);
        } catch (again) {
          log.error({ err: toAgentError(again).toJSON() }, 'the previous model did not reload; no model is serving');
        }
        this.refreshModelInfo();
      } else log.warn({ err: e.toJSON() }, 'activation failed; the previous model keeps serving');
      throw e;
    }
    // Atomic switch: new requests see the new runtime from here on.
    const previousRef = old ? ref(old.servable) : null;
    if (old && this.current) this.previous = { servable: old.servable, options: this.current.options };
    this.active = runtime;
    this.current = { options };
    this.activating--;
    this.o.metrics.activations.inc({ result: 'ok' });
    this.refreshModelInfo();
    const loadMs = Math.round(performance.now() - t0);
    log.info({ previous: previousRef, loadMs, warmupRuns, swapMode: this.o.swapMode }, 'model activated');
    if (record) this.o.onSwitch?.(ref(servable));
    // Drain and unload the old one in the background; the activation is done.
    if (old && !replace) void this.retire(old);
    return { active: ref(servable), previous: previousRef, warmupRuns, goldenCases: options.golden?.cases.length ?? 0, loadMs };
  }

  /** Load + warm-up + golden check of a new runtime; on failure its engine is unloaded again. */
  private async prepare(servable: Servable, warmupRuns: number, golden: GoldenSet | undefined): Promise<ModelRuntime> {
    const m = servable.model;
    let runtime: ModelRuntime | undefined;
    try {
      // One pool per loaded model: its tensors all have this model's input size.
      const pool = new TensorPool();
      const built = await this.o.engineFactory(servable, { pool });
      const batcher = new Batcher(built.engine, {
        pool,
        maxBatch: Math.min(this.o.maxBatch || autoMaxBatch(built.engine.info.backend), m.maxBatch),
        delayMs: this.o.batchDelayMs,
        maxQueue: this.o.maxQueue,
        onBatch: (size, waits) => {
          this.o.metrics.execCount.inc({ model: m.name, version: m.version });
          this.o.metrics.inferenceCount.inc({ model: m.name, version: m.version }, size);
          for (const w of waits) this.o.metrics.stage.observe(w / 1000, { stage: 'queue' });
        },
      });
      runtime = new ModelRuntime({
        servable,
        engine: built.engine,
        batcher,
        nms: built.nms,
        outputNames: built.outputNames,
        maxPixels: this.o.maxPixels,
        defaultMaxDetections: this.o.maxDetections,
        pool,
      });
      await built.engine.load();
      try {
        await built.engine.warmup(warmupRuns);
      } catch (err) {
        throw new AgentError('WARMUP_FAILED', `Model ${m.name}@${m.version} failed its warm-up: ${toAgentError(err).message}`, {
          cause: err,
          hint: 'The previous model keeps serving; check the model file and the log.',
        });
      }
      if (golden) {
        const rt = runtime;
        await compareGolden(golden, (img) => rt.detect(img, { threshold: m.nms.confidenceThreshold, maxDetections: 1000 }), `${m.name}@${m.version}`);
      }
      return runtime;
    } catch (err) {
      if (runtime) await runtime.parts.engine.unload().catch(() => undefined);
      throw err;
    }
  }

  private async retire(old: ModelRuntime): Promise<void> {
    this.draining.add(old);
    this.refreshModelInfo();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      old.drained().then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.o.drainTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) this.o.log.warn({ model: `${old.name}@${old.version}`, inflight: old.inflight }, 'drain timed out; unloading anyway');
    await old.parts.batcher.idle();
    await old.parts.engine.unload().catch((err: unknown) => this.o.log.error({ err }, 'unload failed'));
    this.draining.delete(old);
    this.refreshModelInfo();
  }

  private refreshModelInfo(): void {
    const g = this.o.metrics.modelInfo;
    g.reset();
    if (this.active) g.set(1, { ...ref(this.active.servable), role: 'active' });
    for (const d of this.draining) g.set(1, { ...ref(d.servable), role: 'draining' });
  }

  /**
   * Picks the model for a request and holds it until `fn` settles, so a switch never unloads
   * an engine under a running request. `name` (and `version`) must match the active model.
   */
  async use<T>(name: string | undefined, version: string | undefined, fn: (rt: ModelRuntime) => Promise<T>): Promise<T> {
    return this.hold(this.pick(name, version), fn);
  }

  private async hold<T>(rt: ModelRuntime, fn: (rt: ModelRuntime) => Promise<T>): Promise<T> {
    rt.enter();
    try {
      return await fn(rt);
    } finally {
      rt.leave();
    }
  }

  pick(name?: string, version?: string): ModelRuntime {
    const rt = this.active;
    if (!rt) {
      throw new AgentError('MODEL_NOT_READY', this.activating > 0 ? 'A model is being loaded and warmed up (or swapped).' : 'No model is loaded.', {
        hint: 'Wait for the activation to finish, or activate a model with `jetson-agent models activate NAME@VERSION`.',
      });
    }
    if ((name !== undefined && name !== rt.name) || (version !== undefined && version !== rt.version)) {
      throw new AgentError('MODEL_NOT_FOUND', `Model ${name ?? rt.name}${version ? `@${version}` : ''} is not loaded (serving ${rt.name}@${rt.version}).`, {
        hint: 'GET /v1/models lists what is loaded.',
      });
    }
    return rt;
  }

  /** POST /v1/detect with accounting. */
  detect(bytes: Uint8Array, name: string | undefined, o: DetectOptions): Promise<DetectResult> {
    if (o.priority === 'low') return this.detectLow(bytes, name, o);
    return this.infer(name, undefined, (rt) => rt.detect(bytes, o, (stage, ms) => this.o.metrics.stage.observe(ms / 1000, { stage })));
  }

  /**
   * Evaluation traffic (priority low): at most `lowLaneLimit` such requests decode or infer at
   * once (the rest wait here, not in the engine queue), and the batcher runs them only when no
   * live request waits. They are left out of the latency window, health latencies and the
   * probation counters, which describe live traffic.
   */
  private async detectLow(bytes: Uint8Array, name: string | undefined, o: DetectOptions): Promise<DetectResult> {
    await this.lowLane.acquire();
    try {
      const rt = this.pick(name, undefined);
      const res = await this.hold(rt, (r) => r.detect(bytes, o));
      this.o.metrics.success.inc({ model: rt.name, version: rt.version });
      return res;
    } catch (err) {
      const e = toAgentError(err);
      this.o.metrics.failure.inc({ model: this.active?.name ?? '', version: this.active?.version ?? '', reason: e.code });
      throw e;
    } finally {
      this.lowLane.release();
    }
  }

  /**
   * One inference request on the picked model (use()), counted the same way whichever route
   * sent it (/v1/detect, KServe infer): success/failure metrics, the latency window, and the
   * counters that health telemetry and a deployment's probation read.
   */
  async infer<T>(name: string | undefined, version: string | undefined, fn: (rt: ModelRuntime) => Promise<T>): Promise<T> {
    const t0 = performance.now();
    let rt: ModelRuntime | undefined;
    try {
      rt = this.pick(name, version);
      // `fn` (and the image bytes it holds) is not captured by anything that outlives the call.
      const res = await this.hold(rt, fn);
      this.o.metrics.success.inc({ model: rt.name, version: rt.version });
      this.account(performance.now() - t0, null);
      return res;
    } catch (err) {
      const e = toAgentError(err);
      const on = rt ?? this.active;
      this.o.metrics.failure.inc({ model: on?.name ?? '', version: on?.version ?? '', reason: e.code });
      this.account(performance.now() - t0, e.code, e.httpStatus >= 500);
      throw e;
    }
  }

  status(): InferenceStatus {
    const loaded: (ModelRef & { role: 'active' | 'draining'; inflight: number })[] = [];
    if (this.active) loaded.push({ ...ref(this.active.servable), role: 'active', inflight: this.active.inflight });
    for (const d of this.draining) loaded.push({ ...ref(d.servable), role: 'draining', inflight: d.inflight });
    return {
      ready: this.ready,
      state: this.activating > 0 ? 'activating' : this.active ? 'serving' : 'empty',
      active: this.active ? ref(this.active.servable) : null,
      previous: this.previous ? ref(this.previous.servable) : null,
      loaded,
      queueDepth: this.queueDepth(),
    };
  }

  stats(windowMs: number): WindowStats {
    return this.window.stats(windowMs);
  }

  /**
   * Requests and errors since the service started (for deltas per health interval / probation).
   * `serverErrors` are the failures the service or model is responsible for (HTTP ≥ 500: engine
   * failure, overload, timeout); the rest of `errors` are the client's (undecodable image,
   * unknown model name), which say nothing about a model on probation.
   */
  counters(): { readonly requests: number; readonly errors: number; readonly serverErrors: number } {
    return { ...this.totals };
  }

  /** Latencies recorded since the previous call (bounded), then forgotten. */
  drainLatencies(): number[] {
    const out = this.recent;
    this.recent = [];
    return out;
  }

  private account(ms: number, code: string | null, serverSide = false): void {
    this.window.record(ms, code);
    this.totals.requests++;
    if (code !== null) this.totals.errors++;
    if (serverSide) this.totals.serverErrors++;
    // Bounded: a health interval at high request rates keeps the first 10k samples.
    if (this.recent.length < 10_000) this.recent.push(ms);
  }

  /** Stop: wait for activations, unload everything. */
  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    const all = [...(this.active ? [this.active] : []), ...this.draining];
    this.active = null;
    this.draining.clear();
    for (const rt of all) {
      rt.parts.batcher.rejectAll(new AgentError('CANCELED', 'The inference service is stopping.'));
      await rt.parts.engine.unload().catch(() => undefined);
    }
  }
}

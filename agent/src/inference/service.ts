import type { Servable } from '../core/contracts/model.js';
import { AgentError, toAgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { autoMaxBatch, Batcher } from './batcher.js';
import { TensorPool } from './tensor-pool.js';
import type { BuiltEngine, EngineFactory } from './engine-factory.js';
import { compareGolden, type GoldenSet } from './golden.js';
import type { InferenceMetrics } from './metrics.js';
import { ModelRuntime, type DetectOptions, type DetectResult } from './model-runtime.js';
import { replaceSwap } from './replace-swap.js';
import { SwapHold, type SwapHoldStats } from './swap-hold.js';
import { checkFits, MemoryLedger, type MemoryProbe } from './swap-memory.js';
import { RequestTally } from './request-tally.js';
import { Semaphore } from './semaphore.js';
import type { WindowStats } from './window.js';
import type { ActivateOptions, ActivationResult, InferenceControl, InferenceStatus, ModelRef, StartChoice } from './control.js';

// The control surface's types live in control.ts; importers keep taking them from here.
export type { ActivateOptions, ActivationResult, InferenceControl, InferenceStatus, ModelRef, StartChoice } from './control.js';

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
   * replace mode: how long a request may wait for the gap to end before it answers 503
   * MODEL_NOT_READY (default 15000); 0 = no hold (503 at once). At most maxQueue requests wait.
   */
  readonly swapHoldMs?: number;
  /** MemAvailable (platform/sysinfo.ts memory()); without it no memory check is made before a swap. */
  readonly readMemory?: MemoryProbe;
  /**
   * Low-priority (evaluation) requests decoding or inferring at once (default 3: enough to keep
   * a two-deep engine pipeline fed while one more decodes).
   */
  readonly lowLaneLimit?: number;
  /** Called after every switch of the serving model (activation or rollback), e.g. to remember it across restarts. */
  readonly onSwitch?: (active: ModelRef) => void;
}

const ref = (s: Servable): ModelRef => ({ name: s.model.name, version: s.model.version, backend: s.kind });
const ledgerKey = (s: Servable): string => `${s.model.name}@${s.model.version}/${s.kind}`;

/** inference.swapHoldMs's default (core/config/sections/inference.ts says why). */
export const DEFAULT_SWAP_HOLD_MS = 15_000;

/** An engine built for a servable (model file read, graph prepared), not loaded yet. */
interface Staged {
  readonly servable: Servable;
  readonly built: BuiltEngine;
  readonly pool: TensorPool;
}

export class InferenceService implements InferenceControl {
  private active: ModelRuntime | null = null;
  private previous: { servable: Servable; options: ActivateOptions } | null = null;
  private current: { options: ActivateOptions } | null = null;
  private readonly draining = new Set<ModelRuntime>();
  private chain: Promise<unknown> = Promise.resolve();
  private activating = 0;
  private readonly tally = new RequestTally();
  private closed = false;
  private readonly swapHold: SwapHold;
  private readonly ledger = new MemoryLedger();
  private readonly holdMs: number;
  private readonly lowLane: Semaphore;

  constructor(private readonly o: InferenceServiceOptions) {
    o.metrics.ready.collect(() => (this.active ? 1 : 0));
    o.metrics.pending.collect(() => this.queueDepth());
    this.holdMs = o.swapHoldMs ?? DEFAULT_SWAP_HOLD_MS;
    this.lowLane = new Semaphore(o.lowLaneLimit ?? 3, o.maxQueue);
    this.swapHold = new SwapHold({ maxHeld: o.maxQueue, holdMs: this.holdMs, registry: o.metrics.registry });
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
    // Memory permitting only one model (Nano): the old model is unloaded before the new one
    // loads; requests arriving meanwhile wait in the hold (replace-swap.ts).
    const replace = this.o.swapMode === 'replace' && old !== null;
    let runtime: ModelRuntime;
    try {
      // Read before the new model's file is: the estimate below counts that file itself.
      const available = await this.available();
      // A model file that does not read or parse is refused here, before anything is unloaded.
      const staged = await this.build(servable);
      if (available !== null) {
        // Refuse only what cannot fit even alone: what the serving (and draining) models would free counts as room.
        const freed = [old, ...this.draining].reduce((n, r) => n + this.ledger.freedBy(r), 0);
        try {
          checkFits(`${m.name}@${m.version}`, this.ledger.estimate(ledgerKey(servable), staged.built.modelBytes ?? 0), available, freed, old ? `${old.name}@${old.version}` : null);
        } catch (err) {
          await staged.built.engine.unload().catch(() => undefined);
          throw err;
        }
      }
      runtime = replace
        ? await replaceSwap(
            {
              hold: this.swapHold,
              log,
              setActive: (rt) => {
                this.active = rt;
                this.refreshModelInfo();
              },
              retire: (rt) => this.retire(rt),
              bringUp: (runs, golden) => this.bringUp(staged, runs, golden),
              reload: async (s) => this.bringUp(await this.build(s), 1, undefined),
            },
            old,
            servable,
            warmupRuns,
            options.golden,
          )
        : await this.bringUp(staged, warmupRuns, options.golden);
    } catch (err) {
      this.activating--;
      this.o.metrics.activations.inc({ result: 'failed' });
      const e = toAgentError(err);
      if (!replace) log.warn({ err: e.toJSON() }, 'activation failed; the previous model keeps serving');
      throw e;
    }
    // Atomic switch: new requests (and those held during a replace gap) see the new runtime from here on.
    const previousRef = old ? ref(old.servable) : null;
    if (old && this.current) this.previous = { servable: old.servable, options: this.current.options };
    this.active = runtime;
    this.current = { options };
    this.activating--;
    this.swapHold.end();
    this.o.metrics.activations.inc({ result: 'ok' });
    this.refreshModelInfo();
    const loadMs = Math.round(performance.now() - t0);
    log.info({ previous: previousRef, loadMs, warmupRuns, swapMode: this.o.swapMode }, 'model activated');
    if (record) this.o.onSwitch?.(ref(servable));
    // Drain and unload the old one in the background; the activation is done.
    if (old && !replace) void this.retire(old);
    return { active: ref(servable), previous: previousRef, warmupRuns, goldenCases: options.golden?.cases.length ?? 0, loadMs };
  }

  private async available(): Promise<number | null> {
    if (!this.o.readMemory) return null;
    const r = await this.o.readMemory().catch(() => null);
    return r ? r.availableBytes : null;
  }

  /** The engine for a servable, not loaded yet (model file read, graph prepared). */
  private async build(servable: Servable): Promise<Staged> {
    // One pool per loaded model: its tensors all have this model's input size.
    const pool = new TensorPool();
    return { servable, pool, built: await this.o.engineFactory(servable, { pool }) };
  }

  /** Load + warm-up + golden check of a built engine; on failure the engine is unloaded again. */
  private async bringUp(staged: Staged, warmupRuns: number, golden: GoldenSet | undefined): Promise<ModelRuntime> {
    const { servable, built, pool } = staged;
    const m = servable.model;
    let runtime: ModelRuntime | undefined;
    try {
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
      const before = await this.available();
      await built.engine.load();
      try {
        await built.engine.warmup(warmupRuns);
      } catch (err) {
        throw new AgentError('WARMUP_FAILED', `Model ${m.name}@${m.version} failed its warm-up: ${toAgentError(err).message}`, {
          cause: err,
          hint: 'The previous model keeps serving; check the model file and the log.',
        });
      }
      this.ledger.record(runtime, ledgerKey(servable), built.modelBytes ?? 0, before, await this.available());
      if (golden) {
        const rt = runtime;
        await compareGolden(golden, (img) => rt.detect(img, { threshold: m.nms.confidenceThreshold, maxDetections: 1000 }), `${m.name}@${m.version}`);
      }
      return runtime;
    } catch (err) {
      await built.engine.unload().catch(() => undefined);
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
      const swap = this.swapHold.status();
      const why = swap
        ? `${swap.from.name}@${swap.from.version} is being replaced by ${swap.to.name}@${swap.to.version} (${swap.phase}).`
        : this.activating > 0
          ? 'A model is being loaded and warmed up.'
          : 'No model is loaded.';
      throw new AgentError('MODEL_NOT_READY', why, {
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
      // swapMode replace between two models: wait (bounded, with a deadline) for the one that serves next.
      if (!this.active && this.swapHold.open && this.holdMs > 0) {
        const deadline = t0 + this.holdMs;
        while (!this.active && this.swapHold.open) await this.swapHold.wait(deadline);
      }
      rt = this.pick(name, version);
      // `fn` (and the image bytes it holds) is not captured by anything that outlives the call.
      const res = await this.hold(rt, fn);
      this.o.metrics.success.inc({ model: rt.name, version: rt.version });
      this.tally.record(performance.now() - t0, null);
      return res;
    } catch (err) {
      const e = toAgentError(err);
      const on = rt ?? this.active;
      this.o.metrics.failure.inc({ model: on?.name ?? '', version: on?.version ?? '', reason: e.code });
      this.tally.record(performance.now() - t0, e.code, e.httpStatus >= 500);
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
      swap: this.swapHold.status(),
    };
  }

  stats(windowMs: number): WindowStats {
    return this.tally.stats(windowMs);
  }

  /**
   * Requests and errors since the service started (for deltas per health interval / probation).
   * `serverErrors` are the failures the service or model is responsible for (HTTP ≥ 500: engine
   * failure, overload, timeout); the rest of `errors` are the client's (undecodable image,
   * unknown model name), which say nothing about a model on probation.
   */
  counters(): { readonly requests: number; readonly errors: number; readonly serverErrors: number } {
    return this.tally.counters();
  }

  /** Requests held during replace-mode swaps, their 503s and the longest hold, since the previous call. */
  drainSwapStats(): SwapHoldStats {
    return this.swapHold.drainStats();
  }

  /** Latencies recorded since the previous call (bounded), then forgotten. */
  drainLatencies(): number[] {
    return this.tally.drainLatencies();
  }

  /** Stop: wait for activations, unload everything. */
  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    this.swapHold.fail(new AgentError('CANCELED', 'The inference service is stopping.'), 'stopping');
    const all = [...(this.active ? [this.active] : []), ...this.draining];
    this.active = null;
    this.draining.clear();
    for (const rt of all) {
      rt.parts.batcher.rejectAll(new AgentError('CANCELED', 'The inference service is stopping.'));
      await rt.parts.engine.unload().catch(() => undefined);
    }
  }
}

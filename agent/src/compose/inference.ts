import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Component } from '../core/lifecycle.js';
import { AgentError, toAgentError } from '../core/errors.js';
import type { AgentEnv } from '../core/agent-env.js';
import { packageVersion } from '../platform/package-version.js';
import { defaultEngineFactory } from '../inference/engine-factory.js';
import { DEMO_MODEL_NAME, demoServable } from '../inference/demo-model.js';
import { InferenceMetrics } from '../inference/metrics.js';
import { localResolver, type ServableResolver } from '../inference/resolver.js';
import type { Servable } from '../core/contracts/model.js';
import { InferenceService, type ModelRef } from '../inference/service.js';
import type { ConsoleDeps } from '../http/console/deps.js';
import { buildServer } from '../http/server.js';
import { cpuCount } from '../platform/cpu.js';
import { systemClock } from '../platform/clock.js';
import { memory } from '../platform/sysinfo.js';
import { readInFlight, readServing, recordsAtStart, servingFile, servingRecorder, startCandidates } from './start-model.js';
import { currentRunner } from '../plugin/runner-artifact.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

/** A bind failure of the endpoint as the operator's error: what is wrong and the key to change. */
export function listenError(err: unknown, host: string, port: number): AgentError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const bindCodes = ['EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN'];
  if (!code || !bindCodes.includes(code)) return toAgentError(err);
  const why =
    code === 'EADDRINUSE'
      ? 'the address is in use (another agent, or another server on that port)'
      : code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : `the address is not bindable on this host (${code})`;
  return new AgentError('HTTP_PORT_IN_USE', `The inference endpoint cannot listen on ${host}:${port}: ${why}.`, {
    hint:
      code === 'EADDRINUSE'
        ? `Stop the other process (\`ss -ltnp 'sport = :${port}'\` shows it), or set inference.port (env JETSON_AGENT_INFERENCE_PORT; 0 = any free port).`
        : 'Set inference.host (env JETSON_AGENT_INFERENCE_HOST) to an address of this host, or inference.port to a free port above 1023.',
    cause: err,
    details: { host, port },
  });
}

export interface InferenceComponent extends Component {
  /** Set after start(): the typed control surface for the rollout flow (InferenceControl). */
  service(): InferenceService | undefined;
  /**
   * The model the agent is starting with while that activation is still running (then null):
   * what a deployment that arrives right after a restart replaces (its report's `previous`).
   */
  starting(): { name: string; version: string } | null;
  address(): { host: string; port: number } | undefined;
}

/**
 * The inference endpoint as a daemon component: service + HTTP server on
 * inference.host:port, then the start model activated: the one that served last (recorded on
 * every switch, so a restart does not undo a deployment), else the configured or demo model
 * (start-model.ts).
 * `makeResolver` (the daemon passes the model store + conversion flow) turns the built-in
 * servables into the resolver; without it, the local resolver (built-ins +
 * state/models/*\/servable.json) is used.
 */
export interface InferenceExtras {
  /** The board console's data (served at GET / when inference.console is true). */
  readonly console?: ConsoleDeps;
  /** After every recorded switch of the serving model, with the one it replaced. */
  readonly onSwitch?: (active: ModelRef, previous: ModelRef | null) => void;
}

export function inferenceComponent(env: AgentEnv, makeResolver?: (builtIn: readonly Servable[]) => ServableResolver, extras: InferenceExtras = {}): InferenceComponent {
  const cfg = env.config.inference;
  const log = env.log.child({ module: 'inference' });
  let service: InferenceService | undefined;
  let app: FastifyInstance | undefined;
  let addr: { host: string; port: number } | undefined;
  let starting: { name: string; version: string } | null = null;
  return {
    name: 'inference',
    service: () => service,
    starting: () => starting,
    address: () => addr,
    async start() {
      if (!cfg.enabled) {
        log.info('inference endpoint disabled (inference.enabled = false)');
        return;
      }
      // Generated only when it may be served: otherwise generating it would load protobufjs
      // for nothing (idle footprint, docs/benchmarks.md).
      const demo = cfg.demoModel ? demoServable() : undefined;
      const inMemory = new Map<string, Uint8Array>();
      if (demo?.servable.kind === 'onnxruntime') inMemory.set(demo.servable.onnxPath, demo.bytes);
      const builtIn = demo ? [demo.servable] : [];
      const resolveServable = makeResolver ? makeResolver(builtIn) : localResolver(path.join(env.stateDir, 'models'), builtIn);
      // Leave a core for HTTP, sharp and JSON (docs/reference/serving-runtime.md "ONNX Runtime and the event loop": workers × intra-op ≤ cores).
      const intraOp = cfg.intraOpThreads || Math.max(1, Math.floor((cpuCount() - 1) / cfg.workers));
      const metrics = new InferenceMetrics();
      const recorded = await readServing(servingFile(env.stateDir), log);
      const inFlight = await readInFlight(env.stateDir, log);
      const record = servingRecorder(servingFile(env.stateDir), cfg.model, log, () => systemClock.now());
      // inference.trtRunner wins; else the runner `jetson-agent runner build` recorded (binary sha256 checked).
      const findTrtRunner = async (): Promise<string | undefined> => (await currentRunner(env.stateDir))?.file;
      service = new InferenceService({
        onSwitch: (m) => {
          void record(m);
          extras.onSwitch?.(m, service?.status().previous ?? null);
        },
        engineFactory: defaultEngineFactory({ workers: cfg.workers, intraOpThreads: intraOp, maxBatch: cfg.maxBatch, log, inMemory, trtRunner: cfg.trtRunner, findTrtRunner, runnerTimeoutMs: cfg.runnerTimeoutMs }),
        metrics,
        log,
        maxBatch: cfg.maxBatch,
        batchDelayMs: cfg.batchDelayMs,
        maxQueue: cfg.maxQueue,
        maxPixels: cfg.maxPixels,
        warmupRuns: cfg.warmupRuns,
        maxDetections: cfg.maxDetections,
        drainTimeoutMs: cfg.drainTimeoutMs,
        swapMode: cfg.swapMode,
        swapHoldMs: cfg.swapHoldMs,
        // MemAvailable before a switch: a model that cannot fit even alone is refused before anything is unloaded.
        readMemory: memory,
      });
      if (cfg.swapMode === 'replace' && cfg.swapHoldMs >= cfg.requestTimeoutMs) {
        log.warn({ swapHoldMs: cfg.swapHoldMs, requestTimeoutMs: cfg.requestTimeoutMs }, 'inference.swapHoldMs is not below inference.requestTimeoutMs: a request held through a long swap answers 504 TIMEOUT instead of 503 + Retry-After');
      }
      app = buildServer({
        service,
        metrics,
        resolveServable,
        limits: { bodyLimitBytes: cfg.bodyLimitBytes, requestTimeoutMs: cfg.requestTimeoutMs, maxInflightBodyBytes: cfg.maxInflightBodyBytes, token: cfg.token, maxDetections: cfg.maxDetections },
        version: await packageVersion(),
        log,
        ...(cfg.console && extras.console ? { console: extras.console } : {}),
      });
      if (!LOOPBACK_HOSTS.has(cfg.host) && !cfg.token) log.warn({ host: cfg.host }, 'inference endpoint bound to a non-loopback address without inference.token');
      try {
        await app.listen({ host: cfg.host, port: cfg.port });
      } catch (err) {
        throw listenError(err, cfg.host, cfg.port);
      }
      const a = app.server.address();
      addr = a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
      log.info({ ...addr, workers: cfg.workers, intraOpThreads: intraOp }, 'inference endpoint listening');
      const candidates = startCandidates(recorded, cfg.model, demo ? demo.servable.model : null, inFlight);
      if (candidates.length > 0) {
        // Queued before anything else can ask for an activation (activateFirst), in the background:
        // /healthz answers at once, /readyz once the model is warm.
        starting = candidates[0] ? { name: candidates[0].name, version: candidates[0].version } : null;
        service
          .activateFirst(
            candidates.map((c, i) => async () => {
              starting = { name: c.name, version: c.version };
              const r = await resolveServable(c.name, c.version);
              if (c.source === 'recorded' || c.source === 'before-deployment') log.info({ model: `${c.name}@${c.version}`, source: c.source }, 'starting with the model that served before the restart');
              const record = recordsAtStart(candidates, i);
              if (!record) {
                const failed = candidates.slice(0, i).map((s) => `${s.name}@${s.version} (${s.source})`);
                log.warn({ model: `${c.name}@${c.version}`, source: c.source, failed }, `falling back to ${c.name}@${c.version} because ${failed.join(', ')} could not start; the record is kept, so the next start tries it again`);
              }
              return { servable: r.servable, options: r.golden ? { golden: r.golden } : {}, record };
            }),
          )
          .then((r) => {
            if (r.active.name === DEMO_MODEL_NAME) log.warn('serving the generated demo model: its detections are meaningless');
          })
          .catch((err: unknown) => log.error({ err: toAgentError(err).toJSON() }, 'no start model could be activated'))
          .finally(() => (starting = null));
      } else log.info('no model configured; activate one with `jetson-agent models activate NAME@VERSION`');
    },
    async stop() {
      await app?.close();
      await service?.close();
    },
  };
}

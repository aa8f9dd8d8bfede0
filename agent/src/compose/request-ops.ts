import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { AgentEnv } from '../core/agent-env.js';
import { AgentError } from '../core/errors.js';
import type { SingleFlight } from '../core/single-flight.js';
import type { InferenceService } from '../inference/service.js';
import { buildPlugin } from '../plugin/build.js';
import { callPluginHelper, helperFailure } from '../provision/plugin-helper-client.js';
import { REQUEST_VERSION } from '../provision/plugin-helper.js';
import { createPluginContext } from './plugin-context.js';

/**
 * The MQTT request ops that act on the running daemon (issue #6 §1): `restart-inference`
 * and `plugin-rebuild`. Both take the daemon's single-flight runner (one long operation at a
 * time: conversions queue behind them, they fail fast with BUSY behind a conversion) and
 * refuse while a deployment is in progress (its warm-up, switch or probation would see the
 * restart or the swap as the new model's failure).
 */
export interface RequestOpsDeps {
  readonly env: AgentEnv;
  readonly runner: SingleFlight;
  readonly service: () => InferenceService | undefined;
  /** The deployment in progress (non-terminal state), if any. */
  readonly deploymentInProgress: () => { readonly deploymentId: string; readonly state: string } | undefined;
}

function refuseDuringRollout(deps: RequestOpsDeps, op: string): void {
  const d = deps.deploymentInProgress();
  if (d) {
    throw new AgentError('BUSY', `Cannot ${op}: deployment ${d.deploymentId} is in progress (state ${d.state}).`, {
      hint: 'Retry when the deployment report reaches a terminal state (active, failed, rolled_back …).',
    });
  }
}

/** `work`, or the signal's reason once it aborts (the work itself goes on; nobody waits for it). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new AgentError('CANCELED', 'The inference restart was canceled.'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function restartInferenceOp(deps: RequestOpsDeps): () => Promise<unknown> {
  return async () => {
    const service = deps.service();
    if (!service) {
      throw new AgentError('MODEL_NOT_READY', 'The inference endpoint is disabled (inference.enabled = false); there is nothing to restart.', {
        hint: 'Set inference.enabled: true.',
      });
    }
    refuseDuringRollout(deps, 'restart the inference backend');
    if (service.status().state === 'activating') {
      throw new AgentError('BUSY', 'Cannot restart the inference backend: a model is being activated right now.', { hint: 'Retry when the activation has finished.' });
    }
    const t0 = performance.now();
    // A restart is load + warm-up + golden check, the same work as a deployment's warming state,
    // so it gets the same deadline. InferenceService cannot abort a load, so on the deadline the
    // op answers TIMEOUT and frees the runner; the old engine was never switched out (beside
    // mode) and keeps serving.
    const deadlineSec = deps.env.config.rollout.warmTimeoutSec;
    const r = await deps.runner.run('restart-inference', ({ signal }) => untilAborted(service.restart(), signal), {
      deadlineMs: deadlineSec * 1000,
    }).catch((err: unknown) => {
      if (err instanceof AgentError && err.code === 'TIMEOUT') {
        // In replace mode the old engine was unloaded before the load began: say so, not "keeps serving".
        const serving = service.status().ready ? 'the running engine keeps serving' : 'no model is serving (swapMode replace unloaded the old engine first)';
        throw new AgentError('TIMEOUT', `The inference restart did not finish within rollout.warmTimeoutSec (${deadlineSec} s): the fresh engine is still loading or hung. Nobody waits for it any more and ${serving}; should the load still finish, the fresh engine is switched in then.`, {
          hint: 'Check the agent log for the engine load; raise rollout.warmTimeoutSec if loading this model legitimately takes longer.',
        });
      }
      throw err;
    });
    return {
      model: r.active,
      restartMs: Math.round(performance.now() - t0),
      swapMode: deps.env.config.inference.swapMode,
      warmupRuns: r.warmupRuns,
      goldenCases: r.goldenCases,
    };
  };
}

/** What a signed `plugin-rebuild` request may ask for; everything else comes from config. */
const RebuildParams = Type.Object(
  {
    /** Unpacked TensorRT OSS tree or .tar.gz on the board (offline boards). */
    source: Type.Optional(Type.String({ minLength: 1 })),
    git: Type.Optional(Type.String({ minLength: 1 })),
    ref: Type.Optional(Type.String({ minLength: 1 })),
    gpuArchs: Type.Optional(Type.Array(Type.Integer({ minimum: 10, maximum: 200 }), { minItems: 1 })),
    jobs: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
type RebuildParams = Static<typeof RebuildParams>;

function parseRebuildParams(params: Record<string, unknown>): RebuildParams {
  if (!Value.Check(RebuildParams, params)) {
    const first = Value.Errors(RebuildParams, params).First();
    throw new AgentError('BAD_REQUEST', `plugin-rebuild params are invalid${first ? ` at "${first.path || '/'}": ${first.message}` : ''}.`, {
      hint: 'Allowed: source, git, ref, gpuArchs (numbers), jobs; see docs/mqtt.md.',
    });
  }
  if (params.source !== undefined && params.git !== undefined) throw new AgentError('BAD_REQUEST', 'plugin-rebuild takes either source or git, not both.');
  return params;
}

export function pluginRebuildOp(deps: RequestOpsDeps): (params: Record<string, unknown>) => Promise<unknown> {
  return async (params) => {
    const p = parseRebuildParams(params);
    refuseDuringRollout(deps, 'rebuild the TensorRT plugin');
    const { env } = deps;
    const cfg = env.config.plugin;
    const helperMs = (cfg.helperPickupTimeoutSec + cfg.helperTimeoutSec) * 1000;
    return deps.runner.run(
      'plugin-rebuild',
      async ({ signal }) => {
        const log = env.log.child({ module: 'plugin-rebuild' });
        const ctx = await createPluginContext(env, (step) => log.info({ step }, 'plugin rebuild'));
        const t0 = performance.now();
        // The build runs here, as the agent (it owns the state dir); only the swap needs root.
        const built = await buildPlugin(ctx, {
          ...(p.source ? { source: path.resolve(p.source) } : { git: p.git ?? cfg.gitUrl }),
          ...(p.ref ? { ref: p.ref } : {}),
          ...(p.gpuArchs ? { gpuArchs: p.gpuArchs } : {}),
          ...((p.jobs ?? cfg.jobs) > 0 ? { jobs: p.jobs ?? cfg.jobs } : {}),
          cmakePath: cfg.cmakePath,
          cudaCompiler: cfg.cudaCompiler,
          timeoutMs: cfg.buildTimeoutSec * 1000,
          signal,
        });
        const a = built.artifact;
        const buildMs = Math.round(performance.now() - t0);
        const id = `rebuild-${Date.now()}-${randomBytes(3).toString('hex')}`;
        log.info({ id, artifact: a.file, cached: built.cached }, 'build done; asking the root helper to install it');
        const result = await callPluginHelper({
          stateDir: env.stateDir,
          request: { version: REQUEST_VERSION, id, op: 'install', artifact: path.relative(env.stateDir, a.file), sha256: a.sha256 },
          pickupTimeoutMs: cfg.helperPickupTimeoutSec * 1000,
          resultTimeoutMs: cfg.helperTimeoutSec * 1000,
          signal,
        });
        if (!result.ok) throw helperFailure(result);
        return {
          build: { id: a.id, cached: built.cached, name: a.name, sha256: a.sha256, branch: a.branch, commit: a.commit, gpuArchs: a.gpuArchs, buildMs },
          install: { requestId: id, startedAt: result.startedAt, finishedAt: result.finishedAt, output: result.output },
          totalMs: Math.round(performance.now() - t0),
        };
      },
      { deadlineMs: cfg.buildTimeoutSec * 1000 + helperMs },
    );
  };
}

import path from 'node:path';
import type { AgentEnv } from '../core/agent-env.js';
import { AgentError } from '../core/errors.js';
import type { Servable } from '../core/contracts/model.js';
import type { AgentStatsSource } from '../health/service.js';
import type { InferenceService } from '../inference/service.js';
import type { GoldenSet } from '../inference/golden.js';
import type { DeploymentHooks } from '../rollout/executor.js';
import { findPackage } from '../models/store.js';
import { DEPLOY_DIR, REJECTED_DIR } from '../models/inbox.js';
import { mkdirp, removePath, writeJsonAtomic } from '../platform/fs.js';
import { renamePath } from '../platform/fs-stream.js';
import { loadGolden, type ModelFlow } from './model-flow.js';

/**
 * The rollout executor's hooks over the real model store, conversion and inference service
 * (issue #6 §4 ↔ issues #4/#5). The inference service switches traffic atomically at the end
 * of a successful warm-up + golden check (load beside → warm → golden → switch → drain), so
 * `warm` does the whole hot swap and `activate` only confirms the switched model serves: a
 * warm-up or golden failure leaves the old model serving (→ `failed`), and a probation failure
 * uses `rollbackToPrevious` (→ `rolled_back`).
 */
export function rolloutHooks(
  env: AgentEnv,
  flow: ModelFlow,
  service: () => InferenceService | undefined,
  starting: () => { name: string; version: string } | null = () => null,
): DeploymentHooks {
  const inference = (): InferenceService => {
    const s = service();
    if (!s) {
      throw new AgentError('DEPLOYMENT_NOT_WIRED', 'The inference endpoint is disabled (inference.enabled = false), so a model cannot be activated.', {
        hint: 'Set inference.enabled: true to take deployments.',
      });
    }
    return s;
  };
  const golden = new Map<string, GoldenSet | undefined>();
  const inboxDeploy = path.join(env.stateDir, 'inbox', DEPLOY_DIR);
  const same = (s: Servable, m: { name: string; version: string } | null): boolean => m?.name === s.model.name && m.version === s.model.version;

  return {
    currentModel: () => {
      // Right after a restart the start model may still be loading; it is what a deployment
      // arriving now replaces (its activation queues behind the start model's).
      const a = service()?.status().active;
      return a ? { name: a.name, version: a.version } : starting();
    },
    intake: async (file, sha256) => {
      // Packages handed over by the inbox are consumed here: stored, or moved to rejected/.
      const fromInbox = path.dirname(file) === inboxDeploy;
      try {
        const id = await flow.intake(file, sha256 || undefined);
        if (fromInbox) await removePath(file);
        return id;
      } catch (err) {
        if (fromInbox) {
          const rejected = path.join(env.stateDir, 'inbox', REJECTED_DIR);
          await mkdirp(rejected, 0o750);
          await renamePath(file, path.join(rejected, path.basename(file))).catch(() => undefined);
          const e = err instanceof AgentError ? err.toJSON() : { code: 'INTERNAL', message: String(err) };
          await writeJsonAtomic(path.join(rejected, `${path.basename(file)}.reason.json`), { ...e, at: new Date().toISOString() });
        }
        throw err;
      }
    },
    prepare: async (name, version, signal) => {
      const servable = await flow.prepare(name, version, signal);
      const found = await findPackage(env.stateDir, `${name}@${version}`);
      golden.set(servable.packageSha256, await loadGolden(found.pkg.dir, found.manifest));
      return servable;
    },
    warm: async (servable) => {
      const g = golden.get(servable.packageSha256);
      await inference().activate(servable, g ? { golden: g } : {});
    },
    activate: async (servable) => {
      const active = inference().status().active;
      if (!same(servable, active)) await inference().activate(servable);
    },
    rollbackToPrevious: async () => {
      try {
        const r = await inference().rollback();
        return { name: r.active.name, version: r.active.version };
      } catch (err) {
        if (err instanceof AgentError && err.code === 'NO_PREVIOUS_MODEL') return null;
        throw err;
      }
    },
    servingStats: () => {
      const s = service();
      if (!s) return { ready: false, requests: 0, errors: 0 };
      return { ready: s.status().ready, ...modelCounts(s) };
    },
  };
}

/**
 * Requests and errors that judge the model (probation and the health error rate): a client's bad
 * requests (4xx) count neither as errors nor as requests, so a client sending garbage can
 * neither roll back nor degrade a good model, nor dilute a bad one's failures. 4xx counts stay
 * visible in /metrics.
 */
function modelCounts(s: InferenceService): { requests: number; errors: number } {
  const c = s.counters();
  return { requests: c.requests - (c.errors - c.serverErrors), errors: c.serverErrors };
}

/** The agent section of the health snapshot, from the inference service. */
export function agentStats(service: () => InferenceService | undefined): AgentStatsSource {
  return {
    inference: () => {
      const s = service();
      if (!s) return { requests: 0, errors: 0, latenciesMs: [] };
      const h = s.drainSwapStats();
      return { ...modelCounts(s), latenciesMs: s.drainLatencies(), swap: { heldRequests: h.held, rejectedRequests: h.rejected, longestHoldMs: h.longestHoldMs } };
    },
    model: () => {
      const st = service()?.status();
      if (!st?.active) return null;
      return { ...st.active, state: st.ready ? 'ready' : st.state === 'activating' ? 'loading' : 'none' };
    },
    plugin: () => null,
    lastDeployment: () => null,
  };
}

import type { Component } from '../core/lifecycle.js';
import { SingleFlight } from '../core/single-flight.js';
import { AgentError } from '../core/errors.js';
import { redactConfig } from '../core/config/resolve.js';
import type { AgentEnv } from '../core/agent-env.js';
import { detectBoard } from '../board/detect.js';
import { Inbox, type LocalDeploymentEnd } from '../models/inbox.js';
import { pluginStatus } from '../plugin/status.js';
import type { RolloutExecutor } from '../rollout/executor.js';
import { stateLayoutComponent } from './state-layout.js';
import { pluginDriftComponent } from './plugin-drift.js';
import { createPluginContext } from './plugin-context.js';
import { inferenceComponent } from './inference.js';
import { createModelFlow } from './model-flow.js';
import { mqttComponents } from './mqtt-stack.js';
import { agentStats, rolloutHooks } from './rollout-hooks.js';
import { pluginRebuildOp, restartInferenceOp, type RequestOpsDeps } from './request-ops.js';
import { isTerminal } from '../core/contracts/deployment.js';

/** What the inbox needs to know about the end of a local deployment. */
async function endOf(executor: RolloutExecutor, id: string): Promise<LocalDeploymentEnd> {
  const rec = await executor.ended(id);
  return { deploymentId: id, state: rec.state, ...(rec.error ? { error: rec.error } : {}) };
}

export interface DaemonOptions {
  readonly agentVersion: string;
}

/**
 * The daemon's components, in start order (stopped in reverse): state layout, plugin journal
 * recovery + drift, inference server (demo model or the configured one), MQTT (embedded broker
 * when no broker is configured, then the client + rollout executor, then health), and last
 * the inbox, which hands dropped packages to the same local deployment flow.
 */
export async function daemonComponents(env: AgentEnv, options: DaemonOptions = { agentVersion: '0.0.0' }): Promise<Component[]> {
  const board = await detectBoard(env.paths);
  // One long operation at a time for the whole daemon (conversions, inference restarts, plugin rebuilds).
  const runner = new SingleFlight();
  const flow = createModelFlow(env, board, runner);
  const inference = inferenceComponent(env, (builtIn) => flow.resolver(builtIn));
  let executor: RolloutExecutor | undefined;
  const ops: RequestOpsDeps = {
    env,
    runner,
    service: () => inference.service(),
    deploymentInProgress: () => {
      const cur = executor?.memory.current;
      return cur && !isTerminal(cur.state) ? cur : undefined;
    },
  };
  const mqtt = await mqttComponents(env, {
    agentVersion: options.agentVersion,
    board,
    hooks: rolloutHooks(env, flow, () => inference.service(), () => inference.starting()),
    stats: agentStats(() => inference.service()),
    redactedConfig: () => redactConfig(env.config),
    requestHandlers: {
      'plugin-status': async () => pluginStatus(await createPluginContext(env)),
      'plugin-rebuild': pluginRebuildOp(ops),
      'restart-inference': restartInferenceOp(ops),
    },
    onExecutor: (e) => (executor = e),
  });
  return [
    stateLayoutComponent(env),
    pluginDriftComponent(env),
    inference,
    ...mqtt,
    new Inbox({
      stateDir: env.stateDir,
      pollSec: env.config.models.inboxPollSec,
      maxBytes: env.config.models.maxPackageBytes,
      log: env.log.child({ module: 'model-inbox' }),
      deploy: async (file) => {
        if (!executor) throw new AgentError('DEPLOYMENT_NOT_WIRED', 'The rollout executor is not running; the package was not deployed.', { hint: 'Check the MQTT section of the log.' });
        const ex = executor;
        return endOf(ex, await ex.deployLocal(file));
      },
      deploymentOf: (file) => {
        const id = executor?.localDeploymentOf(file);
        return executor && id ? endOf(executor, id) : undefined;
      },
    }),
  ];
}

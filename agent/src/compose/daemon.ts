import type { Component } from '../core/lifecycle.js';
import { SingleFlight } from '../core/single-flight.js';
import type { AgentEnv } from '../cli/types.js';
import { detectBoard } from '../board/detect.js';
import { stateLayoutComponent } from './state-layout.js';
import { Inbox } from '../models/inbox.js';
import { pluginDriftComponent } from './plugin-drift.js';
import { inferenceComponent } from './inference.js';
import { createModelFlow } from './model-flow.js';

/**
 * The daemon's components, in start order (stopped in reverse): state layout, plugin journal
 * recovery + drift, model inbox, inference server, MQTT (embedded broker first, then the
 * client), health publisher, rollout receiver.
 */
export async function daemonComponents(env: AgentEnv): Promise<Component[]> {
  const board = await detectBoard(env.paths);
  // One long operation at a time for the whole daemon (conversions, later rebuilds).
  const runner = new SingleFlight();
  const flow = createModelFlow(env, board, runner);
  return [
    stateLayoutComponent(env),
    pluginDriftComponent(env),
    new Inbox({
      stateDir: env.stateDir,
      pollSec: env.config.models.inboxPollSec,
      maxBytes: env.config.models.maxPackageBytes,
      log: env.log.child({ module: 'model-inbox' }),
    }),
    inferenceComponent(env, (builtIn) => flow.resolver(builtIn)),
  ];
}

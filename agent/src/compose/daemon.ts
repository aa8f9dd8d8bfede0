import type { Component } from '../core/lifecycle.js';
import type { AgentEnv } from '../cli/types.js';
import { stateLayoutComponent } from './state-layout.js';
import { Inbox } from '../models/inbox.js';
import { pluginDriftComponent } from './plugin-drift.js';
import { inferenceComponent } from './inference.js';

/**
 * The daemon's components, in start order (stopped in reverse): state layout, plugin journal
 * recovery + drift, model inbox, inference server, MQTT (embedded broker first, then the
 * client), health publisher, rollout receiver.
 */
export async function daemonComponents(env: AgentEnv): Promise<Component[]> {
  await Promise.resolve();
  return [
    stateLayoutComponent(env),
    pluginDriftComponent(env),
    new Inbox({
      stateDir: env.stateDir,
      pollSec: env.config.models.inboxPollSec,
      maxBytes: env.config.models.maxPackageBytes,
      log: env.log.child({ module: 'model-inbox' }),
    }),
    inferenceComponent(env),
  ];
}

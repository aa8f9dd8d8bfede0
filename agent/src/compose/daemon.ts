import type { Component } from '../core/lifecycle.js';
import type { AgentEnv } from '../cli/types.js';
import { stateLayoutComponent } from './state-layout.js';
import { inferenceComponent } from './inference.js';

/**
 * The daemon's components, in start order (stopped in reverse). Later features add
 * themselves here: plugin drift check, model store + inbox, inference server, MQTT
 * (embedded broker first, then the client), health publisher, rollout receiver.
 */
export async function daemonComponents(env: AgentEnv): Promise<Component[]> {
  await Promise.resolve();
  return [stateLayoutComponent(env), inferenceComponent(env)];
}

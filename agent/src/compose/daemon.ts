import type { Component } from '../core/lifecycle.js';
import type { AgentEnv } from '../cli/types.js';
import { detectBoard } from '../board/detect.js';
import { stateLayoutComponent } from './state-layout.js';
import { mqttComponents } from './mqtt-stack.js';
import { redactConfig } from '../core/config/resolve.js';

export interface DaemonOptions {
  readonly agentVersion: string;
}

/**
 * The daemon's components, in start order (stopped in reverse). Later features add
 * themselves here: plugin drift check, model store + inbox, inference server — and pass
 * their DeploymentHooks / AgentStatsSource to mqttComponents (embedded broker first, then
 * the client + rollout executor, then health).
 */
export async function daemonComponents(env: AgentEnv, options: DaemonOptions = { agentVersion: '0.0.0' }): Promise<Component[]> {
  const board = await detectBoard(env.paths);
  return [stateLayoutComponent(env), ...(await mqttComponents(env, { agentVersion: options.agentVersion, board, redactedConfig: () => redactConfig(env.config) }))];
}

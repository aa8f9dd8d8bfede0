import { detectBoard } from '../board/detect.js';
import type { AgentEnv } from '../core/agent-env.js';
import type { PluginContext } from '../plugin/context.js';
import { pluginStatePaths } from '../plugin/state-paths.js';

/** Plugin feature dependencies from the agent environment (board detection injected here). */
export async function createPluginContext(env: AgentEnv, onStep?: (step: string) => void): Promise<PluginContext> {
  const board = await detectBoard(env.paths);
  return {
    paths: env.paths,
    state: pluginStatePaths(env.stateDir),
    board,
    log: env.log.child({ module: 'plugin' }),
    now: () => new Date(),
    ...(onStep ? { onStep } : {}),
  };
}

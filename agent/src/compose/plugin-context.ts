import { detectBoard } from '../board/detect.js';
import type { AgentEnv } from '../core/agent-env.js';
import type { PluginContext } from '../plugin/context.js';
import { pluginRecords } from '../plugin/records.js';
import { pluginStatePaths } from '../plugin/state-paths.js';

/**
 * Plugin feature dependencies from the agent environment (board detection injected here).
 * The records directory is a host path: under --root it is the mirror's, resolved so that
 * no symlink in it leaves the root (HostPaths.resolveForWrite).
 */
export async function createPluginContext(env: AgentEnv, onStep?: (step: string) => void): Promise<PluginContext> {
  const board = await detectBoard(env.paths);
  return {
    paths: env.paths,
    state: pluginStatePaths(env.stateDir),
    records: pluginRecords(await env.paths.resolveForWrite(env.config.plugin.recordsDir)),
    board,
    log: env.log.child({ module: 'plugin' }),
    now: () => new Date(),
    ...(onStep ? { onStep } : {}),
  };
}

import { loadConfig, resolveStateDir } from '../core/config/load.js';
import { createLogger } from '../core/log.js';
import { HostPaths } from '../platform/paths.js';
import type { AgentEnv } from '../core/agent-env.js';

/** The global flags that shape the environment (cli/ passes its parsed GlobalOptions). */
export interface AgentEnvFlags {
  readonly configFile?: string;
  readonly root?: string;
  readonly stateDir?: string;
  readonly logLevel?: string;
}

/** Config (file + env + flags) → logger, host paths and the usable state dir. */
export async function createAgentEnv(
  global: AgentEnvFlags,
  env: Readonly<Record<string, string | undefined>>,
  daemon = false,
): Promise<AgentEnv> {
  const overrides: Record<string, unknown> = {};
  if (global.root !== undefined) overrides.hostRoot = global.root;
  if (global.stateDir !== undefined) overrides.stateDir = global.stateDir;
  if (global.logLevel !== undefined) overrides['log.level'] = global.logLevel;
  const loaded = await loadConfig({ ...(global.configFile ? { configFile: global.configFile } : {}), env, overrides });
  const { config } = loaded;
  // One-shot commands log to stderr so stdout stays clean for results / --json.
  const log = createLogger({
    level: config.log.level,
    pretty: config.log.pretty,
    fd: daemon ? 1 : 2,
  });
  const stateDir = await resolveStateDir(config, loaded.explicit);
  return {
    config,
    explicit: loaded.explicit,
    configFile: loaded.configFile,
    log,
    paths: new HostPaths(config.hostRoot),
    stateDir,
  };
}

import type { Config } from './config/schema.js';
import type { Logger } from './log.js';
import type { HostPaths } from '../platform/paths.js';

/**
 * What the agent's commands and the daemon's composition root work with: the effective
 * config, the logger, host paths and the usable state dir (made by compose/agent-env.ts).
 */
export interface AgentEnv {
  readonly config: Readonly<Config>;
  readonly explicit: ReadonlySet<string>;
  readonly configFile: string | undefined;
  readonly log: Logger;
  readonly paths: HostPaths;
  readonly stateDir: string;
}

import type { AgentEnv } from '../core/agent-env.js';
import type { Component } from '../core/lifecycle.js';
import { scheduleCron, type CronJob } from '../jobs/cron.js';
import { pluginStatus } from '../plugin/status.js';
import { createPluginContext } from './plugin-context.js';

/**
 * At start: recover an interrupted swap (intent journal) and check the installed plugin for
 * drift; then re-check on plugin.driftCheckCron. Drift is reported (log now, health later),
 * never repaired by rebuilding. A failing check does not stop the daemon.
 */
export function pluginDriftComponent(env: AgentEnv): Component {
  let job: CronJob | undefined;
  const log = env.log.child({ module: 'plugin-drift' });
  const check = async (): Promise<void> => {
    try {
      const ctx = await createPluginContext(env);
      const st = await pluginStatus(ctx);
      if (st.drift) log.warn({ plugin: st }, `plugin drift: ${st.reason}`);
      else log.info({ library: st.library, origin: st.origin }, 'plugin check: no drift');
    } catch (err) {
      log.error({ err }, 'plugin check failed');
    }
  };
  return {
    name: 'plugin-drift',
    start: async () => {
      await check();
      job = scheduleCron(env.config.plugin.driftCheckCron, check);
    },
    stop: async () => {
      job?.stop();
      await Promise.resolve();
    },
  };
}

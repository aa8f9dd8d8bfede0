import { Lifecycle, stopWithDeadline } from '../../core/lifecycle.js';
import { createNotifier } from '../../platform/sd-notify.js';
import { describeRuntime } from '../../platform/runtime.js';
import { onShutdownSignal } from '../../platform/signals.js';
import { daemonComponents } from '../../compose/daemon.js';
import { packageVersion } from '../program.js';
import type { CommandSpec } from '../types.js';

/** Exit codes of `run`: 0 clean stop, 1 a component failed to stop or start, 3 hard exit. */
export const HARD_EXIT_CODE = 3;

export const runCommand: CommandSpec = {
  path: ['run'],
  summary: 'Run the agent daemon in the foreground until SIGTERM/SIGINT.',
  description:
    'Starts the components in order (state layout, model store, inference endpoint, MQTT, health, rollouts) and stops them in reverse on SIGTERM/SIGINT within shutdownDeadlineMs. A second signal or the deadline forces a hard exit. Speaks the systemd notify protocol when NOTIFY_SOCKET is set.',
  daemon: true,
  examples: ['jetson-agent run', 'jetson-agent run --config /etc/jetson-agent/config.yaml --log-level debug'],
  async run(ctx) {
    const env = await ctx.agent();
    const { log, config } = env;
    const notifier = createNotifier({ env: ctx.env, onError: (m) => log.warn(m) });
    const lifecycle = new Lifecycle(await daemonComponents(env, { agentVersion: await packageVersion() }), log.child({ module: 'lifecycle' }));
    let stopping: Promise<number> | undefined;
    let starting: Promise<void> | undefined;
    let resolveDone: (code: number) => void = () => undefined;
    const done = new Promise<number>((r) => (resolveDone = r));

    const shutdown = (reason: string): Promise<number> => {
      stopping ??= (async () => {
        log.info({ reason, deadlineMs: config.shutdownDeadlineMs }, 'stopping');
        notifier.stopping();
        const outcome = await stopWithDeadline(lifecycle, config.shutdownDeadlineMs, starting);
        if (outcome === 'deadline') {
          log.error({ deadlineMs: config.shutdownDeadlineMs }, 'shutdown deadline passed; exiting hard');
          return HARD_EXIT_CODE;
        }
        if (!outcome.clean) log.error({ failures: outcome.failures }, 'shutdown finished with failures');
        else log.info('stopped cleanly');
        return outcome.clean ? 0 : 1;
      })();
      void stopping.then(resolveDone);
      return stopping;
    };

    const unsubscribe = onShutdownSignal((signal, count) => {
      if (count > 1) {
        log.error({ signal }, 'second signal during shutdown; exiting hard');
        resolveDone(HARD_EXIT_CODE);
        return;
      }
      void shutdown(signal);
    });
    // Keep the event loop alive even when no component holds a socket open.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    try {
      log.info({ version: await packageVersion(), runtime: describeRuntime(), stateDir: env.stateDir, configFile: env.configFile ?? null, hostRoot: config.hostRoot }, 'starting jetson-agent');
      ctx.signal.addEventListener('abort', () => void shutdown('abort'), { once: true });
      starting = lifecycle.start();
      await starting;
      if (!stopping) {
        // READY=1 after local init, not after the broker connects (docs/reference/systemd.md "Readiness and restarts").
        notifier.ready('running');
        const wd = notifier.startWatchdog();
        log.info({ watchdogMs: wd || null }, 'agent ready');
      }
      return await done;
    } finally {
      clearInterval(keepAlive);
      unsubscribe();
      await notifier.close();
      log.flush();
    }
  },
};

import type { Logger } from './log.js';

/**
 * A component's constructor stores its dependencies; work starts in start() and ends in
 * stop() (STYLE §2). The lifecycle starts components in order and stops them in reverse;
 * one failing stop does not skip the others.
 */
export interface Component {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface StopReport {
  readonly clean: boolean;
  readonly failures: readonly { name: string; error: string }[];
}

export class Lifecycle {
  private readonly started: Component[] = [];

  constructor(
    private readonly components: readonly Component[],
    private readonly log: Logger,
  ) {}

  /** Start in order; if one fails, stop those already started and rethrow. */
  async start(): Promise<void> {
    for (const c of this.components) {
      const t0 = Date.now();
      try {
        await c.start();
      } catch (err) {
        this.log.error({ component: c.name, err }, 'component failed to start; stopping the others');
        await this.stop();
        throw err;
      }
      this.started.push(c);
      this.log.debug({ component: c.name, ms: Date.now() - t0 }, 'component started');
    }
  }

  /** Stop in reverse order; collects failures instead of aborting. */
  async stop(): Promise<StopReport> {
    const failures: { name: string; error: string }[] = [];
    while (this.started.length > 0) {
      const c = this.started.pop();
      if (!c) break;
      try {
        await c.stop();
        this.log.debug({ component: c.name }, 'component stopped');
      } catch (err) {
        failures.push({ name: c.name, error: err instanceof Error ? err.message : String(err) });
        this.log.error({ component: c.name, err }, 'component failed to stop');
      }
    }
    return { clean: failures.length === 0, failures };
  }
}

/**
 * Stop with a deadline: resolves 'deadline' when the components take longer than `ms`.
 * `after` (a start still in progress) is awaited first, inside the same deadline, so a signal
 * that arrives during start-up never stops components while others are still starting.
 */
export async function stopWithDeadline(lifecycle: Lifecycle, ms: number, after?: Promise<unknown>): Promise<StopReport | 'deadline'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), ms);
  });
  try {
    const stopped = (async () => {
      await after?.catch(() => undefined);
      return lifecycle.stop();
    })();
    return await Promise.race([stopped, deadline]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

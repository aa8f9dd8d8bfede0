import type { HealthSnapshot } from '../core/contracts/health.js';
import type { Logger } from '../core/log.js';
import type { Clock } from '../platform/clock.js';
import type { BoardFeed } from '../http/console/deps.js';

/**
 * The board console's feed (http/console/deps.ts BoardFeed): the health snapshots the MQTT side
 * publishes every `health.intervalSec`, plus, while at least one console watches, live samples
 * every `inference.consoleSampleSec` from a second health collector (its own /proc deltas and
 * counters, so the published snapshots keep their interval). Nothing is sampled while nobody
 * watches (idle footprint, docs/benchmarks.md).
 */
export class LiveBoard implements BoardFeed {
  private readonly listeners = new Set<(s: HealthSnapshot) => void>();
  private watchers = 0;
  private timer: NodeJS.Timeout | undefined;
  private sampler: (() => Promise<void>) | undefined;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly sampleSec: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  onSnapshot(fn: (s: HealthSnapshot) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A snapshot from either collector. */
  emit(s: HealthSnapshot): void {
    for (const l of this.listeners) {
      try {
        l(s);
      } catch (err) {
        this.log.warn({ err: String(err) }, 'console listener failed');
      }
    }
  }

  watch(): () => void {
    if (++this.watchers === 1) this.run();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.watchers === 0) this.halt();
    };
  }

  /** The live collector (set while the health component runs); undefined stops sampling. */
  async setSampler(tick: (() => Promise<void>) | undefined): Promise<void> {
    this.halt();
    this.sampler = tick;
    if (tick && this.watchers > 0) this.run();
    await this.inflight;
  }

  private sample(): void {
    const tick = this.sampler;
    if (!tick || this.inflight) return;
    this.inflight = tick().finally(() => (this.inflight = undefined));
  }

  private run(): void {
    if (!this.sampler || this.timer) return;
    this.sample();
    this.timer = this.clock.setInterval(() => this.sample(), this.sampleSec * 1000);
  }

  private halt(): void {
    if (this.timer) this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }
}

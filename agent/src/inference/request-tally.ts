import { LatencyWindow, type WindowStats } from './window.js';

/**
 * What every inference request leaves behind, whichever route sent it: the latency window the
 * rollout gates read, monotonic counters (deltas per health interval, probation) and the
 * latencies since the last health snapshot.
 */
export class RequestTally {
  private readonly window = new LatencyWindow(20_000);
  private readonly totals = { requests: 0, errors: 0, serverErrors: 0 };
  private recent: number[] = [];

  record(ms: number, code: string | null, serverSide = false): void {
    this.window.record(ms, code);
    this.totals.requests++;
    if (code !== null) this.totals.errors++;
    if (serverSide) this.totals.serverErrors++;
    // Bounded: a health interval at high request rates keeps the first 10k samples.
    if (this.recent.length < 10_000) this.recent.push(ms);
  }

  stats(windowMs: number): WindowStats {
    return this.window.stats(windowMs);
  }

  counters(): { readonly requests: number; readonly errors: number; readonly serverErrors: number } {
    return { ...this.totals };
  }

  /** Latencies recorded since the previous call (bounded), then forgotten. */
  drainLatencies(): number[] {
    const out = this.recent;
    this.recent = [];
    return out;
  }
}

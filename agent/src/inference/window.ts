/**
 * Request latencies and outcomes over a sliding time window, for the rollout flow's health
 * gates (requests, errors, p50/p90/p99 over an interval). Bounded memory: a ring of samples.
 */
export interface WindowStats {
  readonly windowMs: number;
  readonly requests: number;
  readonly errors: number;
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number } | null;
}

export class LatencyWindow {
  private readonly at: Float64Array;
  private readonly ms: Float64Array;
  private readonly codes: (string | null)[];
  private next = 0;
  private size = 0;

  constructor(
    private readonly capacity: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.at = new Float64Array(capacity);
    this.ms = new Float64Array(capacity);
    this.codes = new Array<string | null>(capacity).fill(null);
  }

  record(latencyMs: number, errorCode: string | null): void {
    this.at[this.next] = this.now();
    this.ms[this.next] = latencyMs;
    this.codes[this.next] = errorCode;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  stats(windowMs: number): WindowStats {
    const since = this.now() - windowMs;
    const lat: number[] = [];
    const errorsByCode: Record<string, number> = {};
    let errors = 0;
    for (let i = 0; i < this.size; i++) {
      if (this.at[i]! < since) continue;
      const code = this.codes[i];
      if (code) {
        errors++;
        errorsByCode[code] = (errorsByCode[code] ?? 0) + 1;
      } else lat.push(this.ms[i]!);
    }
    lat.sort((a, b) => a - b);
    const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
    return {
      windowMs,
      requests: lat.length + errors,
      errors,
      errorsByCode,
      latencyMs: lat.length ? { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat[lat.length - 1]! } : null,
    };
  }
}

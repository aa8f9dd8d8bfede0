import type { InferenceMetrics } from '../../inference/metrics.js';

/**
 * The console's serving numbers, read from the same registry `/metrics` renders (so the two
 * never disagree), and turned into rates the way a Prometheus query would over the interval
 * between two readings:
 * - rate: Δ(nv_inference_request_success + nv_inference_request_failure) / Δt
 * - errors: Δnv_inference_request_failure (by reason) / Δt
 * - p50/p99: histogram_quantile over Δjetson_http_request_duration_seconds of the inference
 *   routes (linear inside a bucket, the +Inf bucket answers the largest finite bound:
 *   https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)
 * - batch: Δnv_inference_count / Δnv_inference_exec_count (the metric's own help text).
 * Pure apart from `readMetrics`, which only reads the registry.
 */
export const INFERENCE_ROUTES: readonly string[] = ['/v1/detect', '/v2/models/:name/infer', '/v2/models/:name/versions/:version/infer'];

export interface MetricsReading {
  /** Wall-clock ms of the reading. */
  readonly at: number;
  readonly success: number;
  readonly failure: number;
  readonly failureByReason: Readonly<Record<string, number>>;
  readonly inferences: number;
  readonly executions: number;
  /** Upper bounds in seconds; counts are cumulative per bound, `count` includes +Inf. */
  readonly latency: { readonly buckets: readonly number[]; readonly counts: readonly number[]; readonly count: number };
  readonly queueDepth: number;
}

export interface ServingPoint {
  readonly t: number;
  /** Cumulative, as in /metrics. */
  readonly requestsTotal: number;
  readonly errorsTotal: number;
  /** Over the interval since the previous reading; null on the first one. */
  readonly ratePerSec: number | null;
  readonly errorsPerSec: number | null;
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly batchAvg: number | null;
  readonly queueDepth: number;
}

const sum = (xs: readonly { value: number }[]): number => xs.reduce((a, x) => a + x.value, 0);

export function readMetrics(m: InferenceMetrics, at: number, queueDepth: number): MetricsReading {
  const failureByReason: Record<string, number> = {};
  for (const s of m.failure.series()) {
    const r = s.labels.reason ?? '';
    failureByReason[r] = (failureByReason[r] ?? 0) + s.value;
  }
  const buckets = m.httpDuration.buckets;
  const counts = new Array<number>(buckets.length).fill(0);
  let count = 0;
  for (const s of m.httpDuration.series()) {
    if (!INFERENCE_ROUTES.includes(s.labels.route ?? '')) continue;
    s.value.counts.forEach((c, i) => (counts[i] = (counts[i] ?? 0) + c));
    count += s.value.count;
  }
  return {
    at,
    success: sum(m.success.series()),
    failure: sum(m.failure.series()),
    failureByReason,
    inferences: sum(m.inferenceCount.series()),
    executions: sum(m.execCount.series()),
    latency: { buckets, counts, count },
    queueDepth,
  };
}

/** histogram_quantile(q) over cumulative bucket counts; null when there are no observations. */
export function histogramQuantile(q: number, buckets: readonly number[], cumulative: readonly number[], total: number): number | null {
  if (total <= 0) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (let i = 0; i < buckets.length; i++) {
    const c = cumulative[i] ?? 0;
    const bound = buckets[i] ?? 0;
    if (c >= rank) {
      if (c === prevCount) return bound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / (c - prevCount);
    }
    prevBound = bound;
    prevCount = c;
  }
  return buckets[buckets.length - 1] ?? null;
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

export function servingPoint(prev: MetricsReading | undefined, cur: MetricsReading): ServingPoint {
  const base = {
    t: cur.at,
    requestsTotal: cur.success + cur.failure,
    errorsTotal: cur.failure,
    queueDepth: cur.queueDepth,
  };
  const dt = prev ? (cur.at - prev.at) / 1000 : 0;
  if (!prev || dt <= 0) return { ...base, ratePerSec: null, errorsPerSec: null, errorsByCode: {}, p50Ms: null, p99Ms: null, batchAvg: null };
  const dReq = cur.success + cur.failure - (prev.success + prev.failure);
  const dErr = cur.failure - prev.failure;
  const errorsByCode: Record<string, number> = {};
  for (const [code, n] of Object.entries(cur.failureByReason)) {
    const d = n - (prev.failureByReason[code] ?? 0);
    if (d > 0) errorsByCode[code] = d;
  }
  const dCounts = cur.latency.counts.map((c, i) => c - (prev.latency.counts[i] ?? 0));
  const dTotal = cur.latency.count - prev.latency.count;
  const q = (p: number): number | null => {
    const s = histogramQuantile(p, cur.latency.buckets, dCounts, dTotal);
    return s === null ? null : round(s * 1000, 2);
  };
  const dExec = cur.executions - prev.executions;
  return {
    ...base,
    ratePerSec: round(dReq / dt, 3),
    errorsPerSec: round(dErr / dt, 3),
    errorsByCode,
    p50Ms: q(0.5),
    p99Ms: q(0.99),
    batchAvg: dExec > 0 ? round((cur.inferences - prev.inferences) / dExec, 2) : null,
  };
}

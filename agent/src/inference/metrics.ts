/**
 * A small Prometheus text-format registry (exposition format 0.0.4): counters, gauges and
 * histograms with labels. Names follow Triton's where one exists (docs/reference/kserve-v2.md "Metrics").
 */
type Labels = Readonly<Record<string, string>>;

const key = (l: Labels): string =>
  Object.keys(l)
    .sort()
    .map((k) => `${k}="${String(l[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge' | 'histogram',
  ) {}
  abstract lines(): string[];
}

/** One labelled series of a metric, for in-process readers (the console's serving stats). */
export interface Series<T> {
  readonly labels: Labels;
  readonly value: T;
}

export class Counter extends Metric {
  private readonly values = new Map<string, number>();
  private readonly labelSets = new Map<string, Labels>();
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    if (!this.labelSets.has(k)) this.labelSets.set(k, { ...labels });
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  /** Every series with its labels: the numbers /metrics renders. */
  series(): Series<number>[] {
    return [...this.values].map(([k, v]) => ({ labels: this.labelSets.get(k) ?? {}, value: v }));
  }
  get(labels: Labels = {}): number {
    return this.values.get(key(labels)) ?? 0;
  }
  total(): number {
    let s = 0;
    for (const v of this.values.values()) s += v;
    return s;
  }
  lines(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${v}`);
  }
}

export class Gauge extends Metric {
  private readonly values = new Map<string, number | (() => number)>();
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }
  set(value: number, labels: Labels = {}): void {
    this.values.set(key(labels), value);
  }
  /** Sampled at scrape time. */
  collect(fn: () => number, labels: Labels = {}): void {
    this.values.set(key(labels), fn);
  }
  reset(): void {
    this.values.clear();
  }
  lines(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${typeof v === 'function' ? v() : v}`);
  }
}

interface HistData {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Metric {
  private readonly data = new Map<string, HistData>();
  private readonly labelSets = new Map<string, Labels>();
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, 'histogram');
  }
  observe(value: number, labels: Labels = {}): void {
    const k = key(labels);
    let d = this.data.get(k);
    if (!d) {
      this.data.set(k, (d = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 }));
      this.labelSets.set(k, { ...labels });
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) d.counts[i]!++;
    d.sum += value;
    d.count++;
  }
  /** Every series with its labels; `counts[i]` is cumulative (≤ buckets[i]), as /metrics renders it. */
  series(): Series<{ readonly counts: readonly number[]; readonly sum: number; readonly count: number }>[] {
    return [...this.data].map(([k, d]) => ({ labels: this.labelSets.get(k) ?? {}, value: { counts: [...d.counts], sum: d.sum, count: d.count } }));
  }
  lines(): string[] {
    const out: string[] = [];
    for (const [k, d] of this.data) {
      const sep = k ? `${k},` : '';
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket{${sep}le="${b}"} ${d.counts[i]}`));
      out.push(`${this.name}_bucket{${sep}le="+Inf"} ${d.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ''} ${d.sum}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ''} ${d.count}`);
    }
    return out;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  register<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics) out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.lines());
    return out.join('\n') + '\n';
  }
}

/** Latency buckets in seconds, 1 ms … 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** The inference service's metrics (names: docs/reference/kserve-v2.md "Metrics" where Triton has one). */
export class InferenceMetrics {
  readonly registry = new Registry();
  readonly httpRequests = this.registry.register(new Counter('jetson_http_requests_total', 'HTTP requests by route and status code.'));
  readonly httpDuration = this.registry.register(new Histogram('jetson_http_request_duration_seconds', 'HTTP request latency by route.', LATENCY_BUCKETS));
  readonly inflight = this.registry.register(new Gauge('jetson_http_inflight_requests', 'HTTP requests being handled.'));
  readonly bodyBytes = this.registry.register(new Gauge('jetson_http_inflight_body_bytes', 'Request-body bytes reserved by requests being received or handled (cap: inference.maxInflightBodyBytes).'));
  readonly errors = this.registry.register(new Counter('jetson_errors_total', 'Error responses by error code.'));
  readonly stage = this.registry.register(new Histogram('jetson_inference_stage_duration_seconds', 'Per-stage latency: decode, preprocess, queue, infer, postprocess.', LATENCY_BUCKETS));
  readonly success = this.registry.register(new Counter('nv_inference_request_success', 'Successful inference requests by model and version.'));
  readonly failure = this.registry.register(new Counter('nv_inference_request_failure', 'Failed inference requests by model, version and reason.'));
  readonly inferenceCount = this.registry.register(new Counter('nv_inference_count', 'Inferences (a batch of n counts n).'));
  readonly execCount = this.registry.register(new Counter('nv_inference_exec_count', 'Batch executions; average batch = nv_inference_count / nv_inference_exec_count.'));
  readonly pending = this.registry.register(new Gauge('nv_inference_pending_request_count', 'Requests waiting for the engine (queue depth).'));
  readonly modelInfo = this.registry.register(new Gauge('jetson_model_info', 'Loaded models: 1 with labels name, version, backend, role (active|previous-draining).'));
  readonly ready = this.registry.register(new Gauge('jetson_inference_ready', '1 when a model is loaded and warm.'));
  readonly activations = this.registry.register(new Counter('jetson_model_activations_total', 'Model activations by result (ok|failed).'));
  readonly loopDelay = this.registry.register(new Gauge('nodejs_eventloop_delay_seconds', 'Event-loop delay over the last interval by quantile (p50, p99, max).'));
  readonly memory = this.registry.register(new Gauge('nodejs_memory_bytes', 'process.memoryUsage() by kind: rss, heapTotal, heapUsed, external (incl. arrayBuffers), arrayBuffers.'));
}

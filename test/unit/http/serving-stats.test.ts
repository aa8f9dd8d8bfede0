import t from 'tap';
import { InferenceMetrics } from '../../../agent/src/inference/metrics.js';
import { histogramQuantile, readMetrics, servingPoint } from '../../../agent/src/http/console/serving-stats.js';

t.test('histogram_quantile as Prometheus defines it: linear in the bucket, +Inf answers the top bound', async (t) => {
  const b = [0.1, 0.2, 0.4];
  // 10 observations ≤ 0.1, 10 more ≤ 0.2, none above.
  t.equal(histogramQuantile(0.5, b, [10, 20, 20], 20), 0.1);
  const near = (a: number | null, b: number): boolean => a !== null && Math.abs(a - b) < 1e-12;
  t.ok(near(histogramQuantile(0.25, b, [10, 20, 20], 20), 0.05));
  t.ok(near(histogramQuantile(0.75, b, [10, 20, 20], 20), 0.15));
  // Half of them above the last bound: the quantile cannot be known past it.
  t.equal(histogramQuantile(0.99, b, [0, 0, 10], 20), 0.4);
  t.equal(histogramQuantile(0.5, b, [0, 0, 0], 0), null);
});

t.test('serving point: the numbers /metrics shows, as rates over the interval', async (t) => {
  const m = new InferenceMetrics();
  const first = readMetrics(m, 1_000_000, 0);
  t.match(servingPoint(undefined, first), { requestsTotal: 0, ratePerSec: null, p50Ms: null });
  for (let i = 0; i < 18; i++) {
    m.success.inc({ model: 'a', version: '1' });
    m.httpDuration.observe(0.02, { route: '/v1/detect' });
  }
  m.failure.inc({ model: 'a', version: '1', reason: 'IMAGE_UNDECODABLE' });
  m.failure.inc({ model: 'a', version: '1', reason: 'OVERLOADED' });
  m.httpDuration.observe(0.003, { route: '/v1/detect' });
  m.httpDuration.observe(7, { route: '/v2/models/:name/infer' });
  // Not an inference route: not in the latency.
  m.httpDuration.observe(9, { route: '/metrics' });
  m.inferenceCount.inc({ model: 'a', version: '1' }, 18);
  m.execCount.inc({ model: 'a', version: '1' }, 6);
  const cur = readMetrics(m, 1_010_000, 3);
  const p = servingPoint(first, cur);
  t.equal(p.requestsTotal, 20);
  t.equal(p.errorsTotal, 2);
  t.equal(p.ratePerSec, 2);
  t.equal(p.errorsPerSec, 0.2);
  t.same(p.errorsByCode, { IMAGE_UNDECODABLE: 1, OVERLOADED: 1 });
  t.equal(p.batchAvg, 3);
  t.equal(p.queueDepth, 3);
  // 20 observations: rank 10 in the (0.01, 0.025] bucket, which holds 18 (after 1 below 0.005).
  t.equal(p.p50Ms, Number(((0.01 + (0.015 * (10 - 1)) / 18) * 1000).toFixed(2)));
  // rank 19.8 lands in (5, 10]: 5 + 5·0.8.
  t.equal(p.p99Ms, 9000);

  // The cumulative numbers are those the exposition renders.
  const text = m.registry.render();
  const total = (name: string): number => [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'gm'))].reduce((a, x) => a + Number(x[1]), 0);
  t.equal(total('nv_inference_request_success') + total('nv_inference_request_failure'), p.requestsTotal);
  t.equal(total('nv_inference_request_failure'), p.errorsTotal);

  // A quiet interval: zero rate, no latency, no batch.
  const quiet = servingPoint(cur, readMetrics(m, 1_012_000, 0));
  t.match(quiet, { ratePerSec: 0, errorsPerSec: 0, p50Ms: null, p99Ms: null, batchAvg: null, errorsByCode: {} });
});

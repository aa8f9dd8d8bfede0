import t from 'tap';
import { restartInferenceOp, type RequestOpsDeps } from '../../../agent/src/compose/request-ops.js';
import { SingleFlight } from '../../../agent/src/core/single-flight.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import type { InferenceService } from '../../../agent/src/inference/service.js';

/**
 * `restart-inference` whose fresh engine never finishes loading (a hung TensorRT engine load):
 * the op must answer TIMEOUT by rollout.warmTimeoutSec and give the daemon's runner back, while
 * the old engine keeps serving. The service double has only what the op calls.
 */
t.test('a hung restart answers TIMEOUT after rollout.warmTimeoutSec and frees the runner', async (t) => {
  const runner = new SingleFlight();
  const service = {
    status: () => ({ state: 'serving', ready: true }),
    restart: () => new Promise(() => undefined),
  } as unknown as InferenceService;
  const deps: RequestOpsDeps = {
    env: { config: { rollout: { warmTimeoutSec: 1 }, inference: { swapMode: 'beside' } } } as never,
    runner,
    service: () => service,
    deploymentInProgress: () => undefined,
  };
  const t0 = Date.now();
  const restart = restartInferenceOp(deps)().catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 50));
  // A conversion arriving meanwhile waits for the restart, then runs once it has been given up.
  const convert = runner.runQueued('convert', async () => 'engine');
  const err = await restart;
  const took = Date.now() - t0;
  t.ok(err instanceof AgentError, String(err));
  t.equal((err as AgentError).code, 'TIMEOUT');
  t.match((err as AgentError).message, /rollout\.warmTimeoutSec \(1 s\).*the running engine keeps serving/);
  t.ok(took >= 950 && took < 5000, `answered after the 1 s deadline (${took} ms), not never`);
  t.equal(await convert, 'engine', 'the runner is free again');
});

t.test('a restart that finishes in time answers with the model', async (t) => {
  const active = { name: 'small', version: '1.0.0', backend: 'onnxruntime' };
  const service = {
    status: () => ({ state: 'serving', ready: true }),
    restart: async () => ({ active, previous: null, warmupRuns: 2, goldenCases: 0, loadMs: 5 }),
  } as unknown as InferenceService;
  const res = (await restartInferenceOp({
    env: { config: { rollout: { warmTimeoutSec: 1 }, inference: { swapMode: 'beside' } } } as never,
    runner: new SingleFlight(),
    service: () => service,
    deploymentInProgress: () => undefined,
  })()) as { model: unknown; warmupRuns: number };
  t.same(res.model, active);
  t.equal(res.warmupRuns, 2);
});

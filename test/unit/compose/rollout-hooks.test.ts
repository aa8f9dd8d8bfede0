import t from 'tap';
import { agentStats, rolloutHooks } from '../../../agent/src/compose/rollout-hooks.js';
import type { InferenceService } from '../../../agent/src/inference/service.js';

/**
 * Probation and the health error rate judge the model, not its clients: 4xx requests count
 * neither as requests nor as errors; 5xx count as both. The service double only has the
 * methods the two readers call.
 */
const service = (requests: number, errors: number, serverErrors: number): InferenceService =>
  ({
    counters: () => ({ requests, errors, serverErrors }),
    drainLatencies: () => [12, 15],
    drainSwapStats: () => ({ held: 4, rejected: 1, longestHoldMs: 850 }),
    status: () => ({ ready: true }),
  }) as unknown as InferenceService;

t.test('health inference counts leave out client errors', async (t) => {
  // 100 requests: 30 rejected as bad input (400/413/415), 5 failed in the engine (500).
  const stats = agentStats(() => service(100, 35, 5)).inference();
  t.same(stats, { requests: 70, errors: 5, latenciesMs: [12, 15], swap: { heldRequests: 4, rejectedRequests: 1, longestHoldMs: 850 } }, 'swap holds pass through to the snapshot');
  t.same(agentStats(() => undefined).inference(), { requests: 0, errors: 0, latenciesMs: [] }, 'no service yet');
});

t.test('probation sees the same counts as health', async (t) => {
  const hooks = rolloutHooks({ stateDir: '/nonexistent' } as never, {} as never, () => service(100, 35, 5));
  t.same(hooks.servingStats(), { ready: true, requests: 70, errors: 5 });
});

t.test("a deployment's `previous` right after a restart is the model still starting", async (t) => {
  const idle = { counters: () => ({ requests: 0, errors: 0, serverErrors: 0 }), status: () => ({ ready: false, active: null }) } as unknown as InferenceService;
  const starting = { name: 'small', version: '2.0.0' };
  t.same(rolloutHooks({ stateDir: '/nonexistent' } as never, {} as never, () => idle, () => starting).currentModel(), starting);
  t.equal(rolloutHooks({ stateDir: '/nonexistent' } as never, {} as never, () => idle).currentModel(), null, 'nothing serving, nothing starting');
  const serving = { status: () => ({ ready: true, active: { name: 'small', version: '3.0.0', backend: 'onnxruntime' } }) } as unknown as InferenceService;
  t.same(rolloutHooks({ stateDir: '/nonexistent' } as never, {} as never, () => serving, () => starting).currentModel(), { name: 'small', version: '3.0.0' }, 'the active model wins');
});

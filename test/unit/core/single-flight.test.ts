import t from 'tap';
import { SingleFlight } from '../../../agent/src/core/single-flight.js';
import { AgentError } from '../../../agent/src/core/errors.js';

const waitAbort = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));

t.test('a second run while busy fails with BUSY', async (t) => {
  const sf = new SingleFlight();
  let release: () => void = () => undefined;
  const first = sf.run('build', () => new Promise<string>((r) => (release = () => r('built'))));
  t.equal(sf.busy, 'build');
  await t.rejects(sf.run('convert', async () => 'x'), { code: 'BUSY' });
  release();
  t.equal(await first, 'built');
  t.equal(sf.busy, undefined);
});

t.test('deadline aborts the task with TIMEOUT', async (t) => {
  const sf = new SingleFlight();
  const err = await sf.run('slow', ({ signal }) => waitAbort(signal), { deadlineMs: 20 }).catch((e: unknown) => e);
  t.ok(err instanceof AgentError);
  t.equal((err as AgentError).code, 'TIMEOUT');
});

t.test('cancel aborts the running task with CANCELED', async (t) => {
  const sf = new SingleFlight();
  const p = sf.run('long', ({ signal }) => waitAbort(signal));
  t.ok(sf.cancel());
  await t.rejects(p, { code: 'CANCELED' });
  t.notOk(sf.cancel(), 'nothing left to cancel');
});

t.test('runQueued waits instead of failing', async (t) => {
  const sf = new SingleFlight();
  const order: string[] = [];
  const a = sf.runQueued('a', async () => {
    await new Promise((r) => setTimeout(r, 20));
    order.push('a');
  });
  const b = sf.runQueued('b', async () => {
    order.push('b');
  });
  await Promise.all([a, b]);
  t.same(order, ['a', 'b']);
});

t.test('runQueued waits for a task started with run (a conversion arriving during a plugin rebuild)', async (t) => {
  const sf = new SingleFlight();
  const order: string[] = [];
  let release: () => void = () => undefined;
  const rebuild = sf.run('plugin-rebuild', () => new Promise<void>((r) => (release = r)).then(() => void order.push('rebuild')));
  const convert = sf.runQueued('convert', async () => {
    order.push('convert');
    return 'engine';
  });
  await new Promise((r) => setTimeout(r, 20));
  t.same(order, [], 'the conversion did not start (nor fail) while the rebuild held the runner');
  t.equal(sf.busy, 'plugin-rebuild');
  release();
  t.equal(await convert, 'engine', 'the conversion ran once the runner was free');
  await rebuild;
  t.same(order, ['rebuild', 'convert']);
  t.equal(sf.busy, undefined);
});

t.test('runQueued also waits when the run it waited for failed', async (t) => {
  const sf = new SingleFlight();
  const restart = sf.run('restart-inference', ({ signal }) => waitAbort(signal), { deadlineMs: 20 });
  const convert = sf.runQueued('convert', async () => 'engine');
  await t.rejects(restart, { code: 'TIMEOUT' });
  t.equal(await convert, 'engine');
});

t.test('a task that throws before returning a promise frees the runner and leaves no deadline timer behind', async (t) => {
  const sf = new SingleFlight();
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const outer = new AbortController();
  await t.rejects(
    sf.run(
      'broken',
      () => {
        throw new AgentError('EXEC_NOT_FOUND', 'no cmake');
      },
      { deadlineMs: 60_000, signal: outer.signal },
    ),
    { code: 'EXEC_NOT_FOUND' },
  );
  t.equal(timers(), before, 'the 60 s deadline timer was cleared');
  t.equal(sf.busy, undefined);
  t.equal(await sf.run('next', async () => 'ran'), 'ran', 'the runner is free');
});

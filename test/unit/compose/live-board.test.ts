import t from 'tap';
import { silentLogger } from '../../../agent/src/core/log.js';
import type { Clock } from '../../../agent/src/platform/clock.js';
import type { HealthSnapshot } from '../../../agent/src/core/contracts/health.js';
import { LiveBoard } from '../../../agent/src/compose/live-board.js';

/** A clock whose intervals fire when the test says so. */
function manualClock(): Clock & { fire(): void; intervals(): number } {
  const timers = new Map<number, () => void>();
  let n = 0;
  return {
    now: () => 0,
    setTimeout: () => {
      throw new Error('unused');
    },
    clearTimeout: () => undefined,
    setInterval: (fn) => {
      timers.set(++n, fn);
      return n as unknown as NodeJS.Timeout;
    },
    clearInterval: (h) => void timers.delete(h as unknown as number),
    fire: () => [...timers.values()].forEach((f) => f()),
    intervals: () => timers.size,
  };
}

t.test('the board is sampled only while someone watches', async (t) => {
  const clock = manualClock();
  const board = new LiveBoard(2, clock, silentLogger);
  let samples = 0;
  const seen: string[] = [];
  board.onSnapshot((s) => seen.push(s.deviceId));
  await board.setSampler(async () => {
    samples++;
    board.emit({ deviceId: `live${samples}` } as HealthSnapshot);
  });
  t.equal(samples, 0, 'nobody watches: no sampling');
  t.equal(clock.intervals(), 0);
  const a = board.watch();
  const b = board.watch();
  t.equal(samples, 1, 'the first watcher gets a sample at once');
  t.equal(clock.intervals(), 1, 'one timer for any number of watchers');
  await new Promise((r) => setImmediate(r));
  clock.fire();
  t.equal(samples, 2);
  a();
  a();
  t.equal(clock.intervals(), 1, 'releasing twice counts once');
  b();
  t.equal(clock.intervals(), 0, 'the last watcher gone: sampling stops');
  board.emit({ deviceId: 'published' } as HealthSnapshot);
  t.same(seen, ['live1', 'live2', 'published'], 'published snapshots reach listeners whether or not anyone watches');
});

t.test('no sampler (health stopped): watching samples nothing; a sampler set later starts for current watchers', async (t) => {
  const clock = manualClock();
  const board = new LiveBoard(2, clock, silentLogger);
  const release = board.watch();
  t.equal(clock.intervals(), 0);
  let samples = 0;
  await board.setSampler(async () => void samples++);
  t.equal(samples, 1);
  await board.setSampler(undefined);
  t.equal(clock.intervals(), 0, 'removing the sampler stops the timer');
  release();
});

t.test('a throwing listener does not stop the others', async (t) => {
  const board = new LiveBoard(2, manualClock(), silentLogger);
  let got = 0;
  board.onSnapshot(() => {
    throw new Error('boom');
  });
  board.onSnapshot(() => void got++);
  board.emit({} as HealthSnapshot);
  t.equal(got, 1);
});

import t from 'tap';
import { Lifecycle, stopWithDeadline, type Component } from '../../../agent/src/core/lifecycle.js';
import { silentLogger } from '../../../agent/src/core/log.js';

function recorder(events: string[], name: string, opts: { failStart?: boolean; failStop?: boolean; hangStop?: boolean } = {}): Component {
  return {
    name,
    start: async () => {
      await Promise.resolve();
      if (opts.failStart) throw new Error(`${name} cannot start`);
      events.push(`start ${name}`);
    },
    stop: async () => {
      if (opts.hangStop) await new Promise(() => undefined);
      events.push(`stop ${name}`);
      if (opts.failStop) throw new Error(`${name} cannot stop`);
    },
  };
}

t.test('starts in order and stops in reverse', async (t) => {
  const ev: string[] = [];
  const lc = new Lifecycle([recorder(ev, 'a'), recorder(ev, 'b'), recorder(ev, 'c')], silentLogger);
  await lc.start();
  const report = await lc.stop();
  t.same(ev, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  t.ok(report.clean);
});

t.test('a failing stop does not skip the others and makes the stop unclean', async (t) => {
  const ev: string[] = [];
  const lc = new Lifecycle([recorder(ev, 'a'), recorder(ev, 'b', { failStop: true }), recorder(ev, 'c')], silentLogger);
  await lc.start();
  const report = await lc.stop();
  t.same(ev.slice(3), ['stop c', 'stop b', 'stop a']);
  t.notOk(report.clean);
  t.same(report.failures, [{ name: 'b', error: 'b cannot stop' }]);
});

t.test('a failing start stops what already started and rethrows', async (t) => {
  const ev: string[] = [];
  const lc = new Lifecycle([recorder(ev, 'a'), recorder(ev, 'b', { failStart: true }), recorder(ev, 'c')], silentLogger);
  await t.rejects(lc.start(), /b cannot start/);
  t.same(ev, ['start a', 'stop a']);
});

t.test('stopWithDeadline gives up on a hanging component', async (t) => {
  const ev: string[] = [];
  const lc = new Lifecycle([recorder(ev, 'a'), recorder(ev, 'hang', { hangStop: true })], silentLogger);
  await lc.start();
  t.equal(await stopWithDeadline(lc, 50), 'deadline');
  t.same(ev, ['start a', 'start hang'], 'a was not reached because hang never returned');
});

t.test('a stop requested during start waits for the start to finish, then stops everything', async (t) => {
  const ev: string[] = [];
  let release: () => void = () => undefined;
  const slow: Component = {
    name: 'slow',
    start: () => new Promise<void>((r) => (release = () => (ev.push('start slow'), r()))),
    stop: async () => void ev.push('stop slow'),
  };
  const lc = new Lifecycle([recorder(ev, 'a'), slow, recorder(ev, 'c')], silentLogger);
  const starting = lc.start();
  await new Promise((r) => setImmediate(r));
  const stopping = stopWithDeadline(lc, 5000, starting);
  await new Promise((r) => setTimeout(r, 20));
  t.same(ev, ['start a'], 'nothing is stopped while a component is still starting');
  release();
  const report = await stopping;
  t.not(report, 'deadline');
  t.same(ev, ['start a', 'start slow', 'start c', 'stop c', 'stop slow', 'stop a']);
});

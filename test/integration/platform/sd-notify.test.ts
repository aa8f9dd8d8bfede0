import t from 'tap';
import { createNotifier } from '../../../agent/src/platform/sd-notify.js';
import { startNotifyReceiver } from '../../helpers/notify-socket.js';

t.test('READY, STATUS, WATCHDOG and STOPPING reach a real unix datagram socket', async (t) => {
  const rx = await startNotifyReceiver();
  t.teardown(() => rx.close());
  const n = createNotifier({ env: { NOTIFY_SOCKET: rx.socketPath, WATCHDOG_USEC: '200000', PATH: process.env.PATH } });
  n.ready('running');
  t.equal(await rx.waitFor((m) => m.startsWith('READY=1')), 'READY=1\nSTATUS=running');
  n.status('line one\nline two');
  t.equal(await rx.waitFor((m) => m.startsWith('STATUS=line')), 'STATUS=line one line two', 'a newline cannot split the datagram');
  t.equal(n.startWatchdog(), 100, 'pings at half of WATCHDOG_USEC');
  await rx.waitFor((m) => m === 'WATCHDOG=1');
  const before = rx.messages.filter((m) => m === 'WATCHDOG=1').length;
  await new Promise((r) => setTimeout(r, 350));
  t.ok(rx.messages.filter((m) => m === 'WATCHDOG=1').length >= before + 2, 'keeps pinging');
  n.stopping();
  await rx.waitFor((m) => m === 'STOPPING=1');
  await n.close();
});

t.test('abstract socket names (leading @) are supported', async (t) => {
  const rx = await startNotifyReceiver({ abstract: true });
  t.teardown(() => rx.close());
  t.match(rx.socketPath, /^@/);
  const n = createNotifier({ env: { NOTIFY_SOCKET: rx.socketPath, PATH: process.env.PATH } });
  n.ready('abstract');
  t.equal(await rx.waitFor((m) => m.startsWith('READY=1')), 'READY=1\nSTATUS=abstract');
  await n.close();
});

t.test('without NOTIFY_SOCKET every call is a no-op', async (t) => {
  const n = createNotifier({ env: {} });
  n.ready();
  n.watchdog();
  t.equal(n.startWatchdog(), 0, 'no watchdog without NOTIFY_SOCKET');
  await n.close();
});

t.test('WATCHDOG_PID for another process disables pings', async (t) => {
  const n = createNotifier({ env: { NOTIFY_SOCKET: '/nonexistent', WATCHDOG_USEC: '1000000', WATCHDOG_PID: String(process.pid + 1) } });
  t.equal(n.startWatchdog(), 0);
  await n.close();
});

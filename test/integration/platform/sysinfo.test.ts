import t from 'tap';
import { readFileSync } from 'node:fs';
import { memory } from '../../../agent/src/platform/sysinfo.js';

/** systeminformation's memory reader against this machine's own /proc/meminfo. */
t.test('memory: total and swap as the kernel reports them; used = total − available', { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) * 1024;
  const m = await memory();
  if (!m) throw new Error('no memory reading on Linux');
  t.equal(m.totalBytes, kb('MemTotal'));
  t.equal(m.swapTotalBytes, kb('SwapTotal'));
  t.equal(m.usedBytes, m.totalBytes - m.availableBytes);
  // MemAvailable moves between the two reads; it cannot leave (0, total].
  t.ok(m.availableBytes > 0 && m.availableBytes <= m.totalBytes, `available ${m.availableBytes} of ${m.totalBytes}`);
  t.ok(Math.abs(m.availableBytes - kb('MemAvailable')) < 0.05 * m.totalBytes, 'available matches MemAvailable (within what moves between reads)');
});

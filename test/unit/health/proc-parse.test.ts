import t from 'tap';
import { busyPct, coreBusyPct, parseNetDev, parseProcStat, parseUptime } from '../../../agent/src/health/proc-parse.js';
import { cpuTemperature } from '../../../agent/src/health/system-reader.js';

// Samples in the kernel's formats (proc(5)); the Orin lines are from a Jetson AGX Orin (L4T R35).
const STAT_1 = `cpu  1000 0 500 8000 500 0 0 0 0 0
cpu0 600 0 200 4000 200 0 0 0 0 0
cpu1 400 0 300 4000 300 0 0 0 0 0
intr 123456 0 0
ctxt 98765
`;
const STAT_2 = `cpu  1600 0 700 8600 600 0 100 0 0 0
cpu0 1100 0 300 4100 200 0 0 0 0 0
cpu1 500 0 400 4500 400 0 100 0 0 0
`;

t.test('/proc/stat: busy % per CPU and overall between two samples (idle + iowait are not busy)', async (t) => {
  const a = parseProcStat(STAT_1);
  const b = parseProcStat(STAT_2);
  t.same(a.all, { busy: 1500, total: 10000 });
  t.same(a.cpus.map((c) => c.cpu), [0, 1]);
  t.equal(a.cpus.length, 2);
  t.equal(busyPct(undefined, a.all ?? { busy: 0, total: 0 }), 15, 'first reading: average since boot');
  // Δbusy = (1600+700+100) - 1500 = 900 of Δtotal = 11600 - 10000 = 1600.
  t.equal(busyPct(a.all ?? undefined, b.all ?? { busy: 0, total: 0 }), 56.3);
  // cpu0: Δbusy 600 of Δtotal 700; cpu1: Δbusy 300 of Δtotal 900.
  t.same(b.cpus.map((c, i) => busyPct(a.cpus[i], c)), [85.7, 33.3]);
  t.equal(busyPct(a.all ?? undefined, a.all ?? { busy: 0, total: 0 }), null, 'no time passed');
  t.same(parseProcStat(''), { all: null, cpus: [] });
});

/** A /proc/stat text: the aggregate `cpu` line, then one `cpuN` line per online core ([user, idle] ticks). */
const procStat = (all: readonly [number, number], cores: Readonly<Record<number, readonly [number, number]>>): string =>
  [`cpu  ${all[0]} 0 0 ${all[1]} 0 0 0 0 0 0`, ...Object.entries(cores).map(([n, [user, idle]]) => `cpu${n} ${user} 0 0 ${idle} 0 0 0 0 0 0`), ''].join('\n');

t.test('/proc/stat: per-core load matched by core number when nvpmodel takes a core offline and back', async (t) => {
  const four = parseProcStat(procStat([4000, 36000], { 0: [1000, 9000], 1: [1000, 9000], 2: [1000, 9000], 3: [1000, 9000] }));
  // cpu1 offline: cpu2 and cpu3 move up one line. cpu0 +50/100 busy, cpu2 +90/100, cpu3 +10/100.
  const three = parseProcStat(procStat([4150, 36150], { 0: [1050, 9050], 2: [1090, 9010], 3: [1010, 9090] }));
  t.same(three.cpus.map((c) => c.cpu), [0, 2, 3]);
  t.same(coreBusyPct(four.cpus, three.cpus), [50, 90, 10], 'each core against its own previous ticks');
  // cpu1 back online with no previous sample in the last reading: its average since boot (10 %).
  const back = parseProcStat(procStat([4250, 36250], { 0: [1100, 9100], 1: [1000, 9000], 2: [1140, 9060], 3: [1020, 9180] }));
  t.same(coreBusyPct(three.cpus, back.cpus), [50, 10, 50, 10]);
  t.same(coreBusyPct(undefined, four.cpus), [10, 10, 10, 10], 'first reading: since boot');
});

t.test('/proc/net/dev: rx bytes column 1, tx bytes column 9', async (t) => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 7374453710  543159    0    0    0     0          0         0 7374453710  543159    0    0    0     0       0          0
  eth0: 1575544209   51676    0    0    0     0          0         0  4895112   43387    0    0    0     0       0          0
l4tbr0:0 0 0 0 0 0 0 0 12 1 0 0 0 0 0 0
`;
  const n = parseNetDev(text);
  t.same([...n.keys()], ['lo', 'eth0', 'l4tbr0']);
  t.same(n.get('eth0'), { rx: 1575544209, tx: 4895112 });
  t.same(n.get('l4tbr0'), { rx: 0, tx: 12 }, 'no space after the colon');
});

t.test('/proc/uptime and the CPU thermal zone', async (t) => {
  t.equal(parseUptime('35417.62 69830.32\n'), 35417.62);
  t.equal(parseUptime(''), null);
  const zones = [
    { zone: 'thermal_zone0', type: 'PMIC-Die', tempC: 100 },
    { zone: 'thermal_zone1', type: 'CPU-therm', tempC: 41.5 },
    { zone: 'thermal_zone2', type: 'GPU-therm', tempC: 40 },
  ];
  t.equal(cpuTemperature(zones), 41.5, 'Jetson CPU-therm');
  t.equal(cpuTemperature([{ zone: 'thermal_zone3', type: 'x86_pkg_temp', tempC: 55 }]), 55);
  t.equal(cpuTemperature([{ zone: 'thermal_zone0', type: 'acpitz', tempC: 30 }]), null, 'no CPU zone: null, not a guess');
});

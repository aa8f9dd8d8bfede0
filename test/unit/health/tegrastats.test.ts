import t from 'tap';
import { maxTemperature, parseTegrastatsLine, type TegrastatsSample } from '../../../agent/src/health/tegrastats.js';
import { referenceLines } from '../../helpers/tegrastats-lines.js';

const lines = referenceLines();

function parse(board: string): TegrastatsSample {
  const line = lines.get(board);
  if (!line) throw new Error(`no line ${board}`);
  const r = parseTegrastatsLine(line);
  if (!r.ok) throw new Error(`${board}: ${r.reason}`);
  return r.sample;
}

t.test('every reference sample line parses with no unknown tokens', async (t) => {
  t.equal(lines.size, 13);
  for (const [board, line] of lines) {
    const r = parseTegrastatsLine(line);
    t.ok(r.ok, `${board} parses`);
    if (r.ok) t.same(r.sample.unknown, [], `${board}: every token recognised`);
  }
});

t.test('Nano without root: loads without freq, JP4 rails without unit are mW', async (t) => {
  const s = parse('nano-nonroot');
  t.same(s.ram, { usedMB: 330, totalMB: 3964, lfbBlocks: 758, lfbBlockMB: 4 });
  t.same(s.swap, { usedMB: 0, totalMB: 1982, cachedMB: 0 });
  t.equal(s.cpus.length, 4);
  t.same(s.cpus[0], { loadPct: 12, freqMHz: 102, online: true });
  t.same(s.loads.EMC, { loadPct: 0, freqMHz: null });
  t.same(s.loads.GR3D, { loadPct: 4, freqMHz: null });
  t.same(s.rails.POM_5V_IN, { curMW: 933, avgMW: 933 });
  t.equal(s.temps.PMIC, 100);
  t.equal(maxTemperature(s), 27, 'PMIC fake 100C ignored');
});

t.test('Nano root adds IRAM, APE and frequencies', async (t) => {
  const s = parse('nano-root');
  t.same(s.iram, { usedKB: 0, totalKB: 252, lfbKB: 252 });
  t.equal(s.engines.APE, 25);
  t.same(s.loads.GR3D, { loadPct: 4, freqMHz: 76 });
});

t.test('TX2 under load: kB lfb, negative temperatures, MTS, engines, rails', async (t) => {
  const s = parse('tx2-load');
  t.equal(s.ram?.lfbBlockMB, 0.5);
  t.equal(s.temps.BCPU, -45);
  t.equal(s.temps.Tdiode, 46.75);
  t.same(s.mts, { fgPct: 0, bgPct: 0 });
  t.equal(s.engines.NVENC, 716);
  t.same(s.rails.VDD_DDR, { curMW: 2702, avgMW: 2702 });
  t.equal(s.cpus.length, 6);
});

t.test('AGX Xavier rails named like temperatures (GPU 1155/1155 vs GPU@28C)', async (t) => {
  const s = parse('agx-xavier-root');
  t.equal(s.cpus.length, 8);
  t.equal(s.temps.GPU, 28);
  t.same(s.rails.GPU, { curMW: 1155, avgMW: 1155 });
  t.same(s.rails.CV, { curMW: 0, avgMW: 0 });
});

t.test('Xavier NX: offline cores', async (t) => {
  const s = parse('xavier-nx');
  t.same(s.cpus.map((c) => c.online), [true, true, true, false, false, false]);
  t.same(s.cpus[3], { loadPct: null, freqMHz: null, online: false });
});

t.test('AGX Orin JP5: timestamp, -256C offline zones, mW units, NC skipped, GR3D2', async (t) => {
  const s = parse('agx-orin-jp5');
  t.equal(s.timestamp, '01-03-2023 16:07:54');
  t.equal(s.temps.CV0, null);
  t.equal(s.temps.GPU, null);
  t.equal(s.temps.tj, 41.656);
  t.equal(s.cpus.length, 12);
  t.ok(s.loads.GR3D2);
  t.equal(s.engines.VIC_FREQ, 115);
  t.equal(s.engines.NVJPG1, 729);
  t.same(Object.keys(s.rails).sort(), ['VDDQ_VDD2_1V8AO', 'VDD_CPU_CV', 'VDD_GPU_SOC', 'VIN_SYS_5V0']);
  t.equal(maxTemperature(s), 41.656);
});

t.test('Orin Nano JP6: lowercase zones, GPU freq array of one', async (t) => {
  const real = parse('orin-nano-jp6-real');
  t.equal(real.temps.gpu, 50.562);
  t.same(real.rails.VDD_IN, { curMW: 6626, avgMW: 6625 });
  const root = parse('orin-nano-jp6-root');
  t.same(root.loads.GR3D, { loadPct: 14, freqMHz: 420, freqsMHz: [420] });
  t.same(root.ram, { usedMB: 1839, totalMB: 7763, lfbBlocks: 4, lfbBlockMB: 2 });
});

t.test('JP7: per-GPC arrays, x/yC temperatures, a/b/c mW rails, off engines', async (t) => {
  const s = parse('agx-orin-jp7');
  t.same(s.loads.GR3D, { loadPct: 12, freqMHz: 1300, freqsMHz: [1300, 1300] });
  t.equal(s.temps.cpu, 52.968);
  t.equal(s.tempsExtra.cpu, 52.968);
  t.same(s.rails.VDD_GPU_SOC, { curMW: 5139, avgMW: 5139, extraMW: 5139 });
  t.equal(s.engines.NVENC0, null);
  t.equal(s.engines.PVA0_FREQ, null);
  t.equal(s.swap, null);
});

t.test('Thor: GPU frequencies without utilisation', async (t) => {
  const s = parse('thor');
  t.same(s.loads.GR3D, { loadPct: null, freqMHz: 1000, freqsMHz: [1000, 1000, 1000] });
});

t.test('older CPU [X%,Y%]@Z format', async (t) => {
  const r = parseTegrastatsLine('RAM 100/200MB (lfb 1x4MB) CPU [10%,20%]@1200');
  t.ok(r.ok);
  if (r.ok) t.same(r.sample.cpus, [{ loadPct: 10, freqMHz: 1200, online: true }, { loadPct: 20, freqMHz: 1200, online: true }]);
});

t.test('malformed lines never throw; unknown fields are kept raw', async (t) => {
  for (const bad of ['', '   ', 'tegrastats: command not found', 'RAM 330/39', 'CPU [', '\u0000\u0001 garbage @@@ ///', 'RAM x/yMB CPU [a%@b]']) {
    const r = parseTegrastatsLine(bad);
    t.notOk(r.ok, `rejects ${JSON.stringify(bad)}`);
  }
  const truncated = parseTegrastatsLine('RAM 330/3964MB (lfb 758x4MB) SWAP 0/1982MB (cached 0MB) CPU [12%@102,7%@102] EMC_FR');
  t.ok(truncated.ok, 'a line cut mid-field keeps what parsed');
  if (truncated.ok) t.same(truncated.sample.unknown, ['EMC_FR']);
  const future = parseTegrastatsLine('RAM 1/2MB (lfb 1x4MB) CPU [1%@2] NEWTHING 7%@[x] FOO@barC VDD_IN 1mW/2mW');
  t.ok(future.ok);
  if (future.ok) {
    t.same(future.sample.unknown, ['NEWTHING', '7%@[x]', 'FOO@barC']);
    t.same(future.sample.rails.VDD_IN, { curMW: 1, avgMW: 2 });
  }
  const weirdCpu = parseTegrastatsLine('RAM 1/2MB CPU [1%@2,zz,off]');
  t.ok(weirdCpu.ok);
  if (weirdCpu.ok) {
    t.equal(weirdCpu.sample.cpus.length, 2);
    t.same(weirdCpu.sample.unknown, ['CPU:zz']);
  }
});

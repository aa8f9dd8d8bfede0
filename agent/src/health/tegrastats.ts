/**
 * Pure tegrastats line parser (docs/reference/tegrastats.md "Sample lines" and "Fields"). Every format in the reference
 * parses: Nano/TX1 JP4 with and without root, TX2, AGX Xavier, Xavier NX, AGX Orin JP5 (with
 * the `MM-DD-YYYY HH:MM:SS` prefix), Orin Nano JP6 (`mW` units, `@[f]` GPU freq), JP7
 * (`@[f1,f2]` arrays, `a/bC` temperatures, `a/b/c mW` rails) and Thor (`GR3D_FREQ @[…]`).
 * The line is consumed left to right by anchored patterns; a token no pattern knows is kept
 * raw in `unknown` — the parser never throws.
 */

export interface CpuCore {
  /** null when the core is `off`. */
  readonly loadPct: number | null;
  readonly freqMHz: number | null;
  readonly online: boolean;
}

export interface LoadFreq {
  /** Busy % relative to the current frequency; null when the line gives only frequencies (Thor). */
  readonly loadPct: number | null;
  /** MHz; for `@[f1,f2]` the maximum (jtop convention). */
  readonly freqMHz: number | null;
  /** Per-GPC frequencies when the line shows an array. */
  readonly freqsMHz?: readonly number[];
}

export interface Rail {
  readonly curMW: number;
  readonly avgMW: number;
  /** Third value of JP7 `a/b/c mW` rails (meaning UNCONFIRMED, docs/reference/tegrastats.md "Fields"), kept raw. */
  readonly extraMW?: number;
}

export interface TegrastatsSample {
  /** `MM-DD-YYYY HH:MM:SS` prefix as printed (board local time), when present. */
  readonly timestamp: string | null;
  readonly ram: { usedMB: number; totalMB: number; lfbBlocks: number | null; lfbBlockMB: number | null } | null;
  readonly swap: { usedMB: number; totalMB: number; cachedMB: number | null } | null;
  readonly iram: { usedKB: number; totalKB: number; lfbKB: number | null } | null;
  readonly cpus: readonly CpuCore[];
  /** EMC_FREQ, GR3D_FREQ, GR3D2_FREQ… keyed by the name without `_FREQ` when a `%` is shown. */
  readonly loads: Readonly<Record<string, LoadFreq>>;
  /** Engines with a clock or `off`: APE, NVENC, NVDEC, NVJPG1, VIC_FREQ, PVA0_FREQ… (MHz, null = off). */
  readonly engines: Readonly<Record<string, number | null>>;
  readonly mts: { fgPct: number; bgPct: number } | null;
  /**
   * °C by name as printed; null = zone offline / power-gated (`-256C`, jtop TEMPERATURE_OFFLINE).
   * `PMIC@100C` is a fixed fake value: kept here, but health/snapshot ignores it.
   */
  readonly temps: Readonly<Record<string, number | null>>;
  /** Second value of JP7 `a/bC` temperatures (meaning UNCONFIRMED, docs/reference/tegrastats.md "Fields"). */
  readonly tempsExtra: Readonly<Record<string, number>>;
  /** Power rails in mW (JP4 prints no unit: mW; JP5+ `mW`); `NC` (not connected) skipped. */
  readonly rails: Readonly<Record<string, Rail>>;
  /** Tokens no pattern recognised, verbatim. */
  readonly unknown: readonly string[];
}

export type ParseResult =
  | { readonly ok: true; readonly sample: TegrastatsSample }
  | { readonly ok: false; readonly reason: string; readonly line: string };

const unitToMB = (v: number, unit: string): number => (unit === 'k' ? v / 1024 : unit === 'G' ? v * 1024 : v);
const num = (s: string | undefined): number => Number(s);
const TEMP_OFFLINE = -256;

type Mutable<T> = {
  -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] extends Readonly<Record<string, infer V>> ? Record<string, V> : T[K];
};

interface Rule {
  readonly re: RegExp;
  apply(m: RegExpExecArray, s: Mutable<TegrastatsSample>): void;
}

const N = '(-?\\d+(?:\\.\\d+)?)';

/** Order matters: specific shapes first; all sticky (`y`) so they match at the cursor only. */
const RULES: readonly Rule[] = [
  {
    // RAM 330/3964MB (lfb 758x4MB)   — jtop: RAM (\d+)\/(\d+)(\w)B( ?)\(lfb (\d+)x(\d+)(\w)B\)
    re: /RAM (\d+)\/(\d+)([kMG])B(?: ?\(lfb (\d+)x(\d+)([kMG])B\))?(?=\s|$)/y,
    apply: (m, s) => {
      const u = m[3] ?? 'M';
      s.ram = {
        usedMB: unitToMB(num(m[1]), u),
        totalMB: unitToMB(num(m[2]), u),
        lfbBlocks: m[4] === undefined ? null : num(m[4]),
        lfbBlockMB: m[5] === undefined ? null : unitToMB(num(m[5]), m[6] ?? 'M'),
      };
    },
  },
  {
    re: /SWAP (\d+)\/(\d+)([kMG])B(?: ?\(cached (\d+)([kMG])B\))?(?=\s|$)/y,
    apply: (m, s) => {
      const u = m[3] ?? 'M';
      s.swap = { usedMB: unitToMB(num(m[1]), u), totalMB: unitToMB(num(m[2]), u), cachedMB: m[4] === undefined ? null : unitToMB(num(m[4]), m[5] ?? 'M') };
    },
  },
  {
    // IRAM 0/252kB(lfb 252kB) — TX1/Nano root only
    re: /IRAM (\d+)\/(\d+)kB(?: ?\(lfb (\d+)kB\))?(?=\s|$)/y,
    apply: (m, s) => {
      s.iram = { usedKB: num(m[1]), totalKB: num(m[2]), lfbKB: m[3] === undefined ? null : num(m[3]) };
    },
  },
  {
    // CPU [31%@1479,off,…] or older CPU [X%,Y%]@Z
    re: /CPU \[([^\]\s]*)\](?:@(\d+))?(?=\s|$)/y,
    apply: (m, s) => {
      const shared = m[2] === undefined ? null : num(m[2]);
      const cores: CpuCore[] = [];
      for (const entry of (m[1] ?? '').split(',')) {
        if (entry === 'off') {
          cores.push({ loadPct: null, freqMHz: null, online: false });
          continue;
        }
        const c = /^(\d+)%(?:@(\d+))?$/.exec(entry);
        if (!c) {
          s.unknown.push(`CPU:${entry}`);
          continue;
        }
        cores.push({ loadPct: num(c[1]), freqMHz: c[2] === undefined ? shared : num(c[2]), online: true });
      }
      s.cpus = cores;
    },
  },
  {
    re: /MTS fg (\d+)% bg (\d+)%(?=\s|$)/y,
    apply: (m, s) => {
      s.mts = { fgPct: num(m[1]), bgPct: num(m[2]) };
    },
  },
  {
    // GR3D_FREQ 14%@[420] | GR3D_FREQ 12%@[1300,1300] | GR3D_FREQ @[1000,1000,1000] (Thor)
    re: /([A-Z][A-Z0-9_]*) (?:(\d+)%)?@\[([0-9,]+)\](?=\s|$)/y,
    apply: (m, s) => {
      const freqs = (m[3] ?? '').split(',').filter(Boolean).map(Number);
      s.loads[loadName(m[1] ?? '')] = { loadPct: m[2] === undefined ? null : num(m[2]), freqMHz: freqs.length ? Math.max(...freqs) : null, freqsMHz: freqs };
    },
  },
  {
    // EMC_FREQ 14%@1600 | GR3D_FREQ 33% | EMC_FREQ 0%
    re: /([A-Z][A-Z0-9_]*) (\d+)%(?:@(\d+))?(?=\s|$)/y,
    apply: (m, s) => {
      s.loads[loadName(m[1] ?? '')] = { loadPct: num(m[2]), freqMHz: m[3] === undefined ? null : num(m[3]) };
    },
  },
  {
    // temperatures: CPU@23.5C, CV0@-256C, cpu@52.968C/52.968C (JP7) — jtop \b(\w+)@(-?[0-9.]+)C\b
    re: new RegExp(`([A-Za-z0-9_]+)@${N}C(?:\\/${N}C)?(?=\\s|$)`, 'y'),
    apply: (m, s) => {
      const name = m[1] ?? '';
      const t = num(m[2]);
      s.temps[name] = t <= TEMP_OFFLINE ? null : t;
      if (m[3] !== undefined) s.tempsExtra[name] = num(m[3]);
    },
  },
  {
    // rails: POM_5V_IN 933/933 (JP4, mW) | VDD_IN 6626mW/6625mW | VDD_GPU_SOC 5139mW/5139mW/5139mW (JP7)
    re: new RegExp(`([A-Za-z0-9_]+) ${N}(m?W)?\\/${N}(m?W)?(?:\\/${N}(m?W)?)?(?=\\s|$)`, 'y'),
    apply: (m, s) => {
      const name = m[1] ?? '';
      if (name === 'NC') return; // not-connected INA3221 channel (docs/reference/tegrastats.md "Power rails")
      const mw = (v: string | undefined, unit: string | undefined): number => (unit === 'W' ? num(v) * 1000 : num(v));
      s.rails[name] = {
        curMW: mw(m[2], m[3]),
        avgMW: mw(m[4], m[5]),
        ...(m[6] === undefined ? {} : { extraMW: mw(m[6], m[7]) }),
      };
    },
  },
  {
    // engines: APE 25, NVENC 716, NVJPG1 729, VIC_FREQ 115, NVDLA0 off, PVA0_FREQ off
    re: /([A-Z][A-Z0-9_]*) (off|\d+)(?=\s|$)/y,
    apply: (m, s) => {
      s.engines[m[1] ?? ''] = m[2] === 'off' ? null : num(m[2]);
    },
  },
];

function loadName(field: string): string {
  return field.endsWith('_FREQ') ? field.slice(0, -'_FREQ'.length) : field;
}

const TIMESTAMP = /^(\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}) /;

export function parseTegrastatsLine(input: string): ParseResult {
  const line = input.replace(/[\r\n]+$/, '');
  if (line.trim() === '') return { ok: false, reason: 'empty line', line };
  const s: Mutable<TegrastatsSample> = {
    timestamp: null,
    ram: null,
    swap: null,
    iram: null,
    cpus: [],
    loads: {},
    engines: {},
    mts: null,
    temps: {},
    tempsExtra: {},
    rails: {},
    unknown: [],
  };
  let pos = 0;
  const ts = TIMESTAMP.exec(line);
  if (ts) {
    s.timestamp = ts[1] ?? null;
    pos = ts[0].length;
  }
  let recognised = 0;
  while (pos < line.length) {
    while (pos < line.length && /\s/.test(line[pos] ?? '')) pos++;
    if (pos >= line.length) break;
    let matched = false;
    for (const rule of RULES) {
      rule.re.lastIndex = pos;
      const m = rule.re.exec(line);
      if (m) {
        rule.apply(m, s);
        pos = rule.re.lastIndex;
        matched = true;
        recognised++;
        break;
      }
    }
    if (!matched) {
      const end = line.slice(pos).search(/\s/);
      const token = end === -1 ? line.slice(pos) : line.slice(pos, pos + end);
      s.unknown.push(token);
      pos += token.length;
    }
  }
  if (recognised === 0 || (s.ram === null && s.cpus.length === 0)) {
    return { ok: false, reason: 'no RAM or CPU field: not a tegrastats sample line', line };
  }
  return { ok: true, sample: s };
}

/** Max temperature over real zones (PMIC's fixed 100C and offline zones excluded). */
export function maxTemperature(sample: TegrastatsSample): number | null {
  let max: number | null = null;
  for (const [name, t] of Object.entries(sample.temps)) {
    if (t === null || name.toUpperCase() === 'PMIC') continue;
    if (max === null || t > max) max = t;
  }
  return max;
}

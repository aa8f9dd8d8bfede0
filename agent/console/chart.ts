import { classColor } from './format.js';

/**
 * A small time-series line chart on a canvas: several named series, the last `spanMs` of time,
 * a fixed or automatic y range, a legend with the latest values. Enough for jtop-style board
 * charts without a charting library (the console must stay small and offline).
 */
export interface ChartOptions {
  readonly title: string;
  readonly unit: string;
  /** Fixed range (e.g. 0–100 %); otherwise from the data, starting at 0. */
  readonly min?: number;
  readonly max?: number;
  readonly digits?: number;
  readonly format?: (v: number) => string;
}

type Sample = readonly [t: number, v: number];

export class LineChart {
  readonly root: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly legend: HTMLElement;
  private readonly series = new Map<string, Sample[]>();
  private empty: HTMLElement;

  constructor(
    private readonly o: ChartOptions,
    private spanMs: number,
  ) {
    this.root = document.createElement('figure');
    this.root.className = 'chart';
    const cap = document.createElement('figcaption');
    cap.textContent = o.title;
    this.canvas = document.createElement('canvas');
    this.canvas.height = 120;
    this.legend = document.createElement('div');
    this.legend.className = 'legend';
    this.empty = document.createElement('div');
    this.empty.className = 'chart-empty';
    this.empty.textContent = 'not measured on this host';
    this.root.append(cap, this.canvas, this.legend, this.empty);
  }

  setSpan(ms: number): void {
    this.spanMs = ms;
  }

  /** Adds one value per series at time t; series absent from `values` get no point. */
  add(t: number, values: Readonly<Record<string, number | null>>): void {
    for (const [name, v] of Object.entries(values)) {
      if (v === null || !Number.isFinite(v)) continue;
      let s = this.series.get(name);
      if (!s) this.series.set(name, (s = []));
      s.push([t, v]);
    }
    const from = t - this.spanMs;
    for (const s of this.series.values()) while (s.length > 0 && (s[0]?.[0] ?? 0) < from) s.shift();
  }

  /** Latest value per series (tests read the chart through this and the DOM legend). */
  latest(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, s] of this.series) {
      const last = s[s.length - 1];
      if (last) out[name] = last[1];
    }
    return out;
  }

  draw(now: number): void {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(50, c.clientWidth);
    const h = 120;
    c.width = Math.round(w * dpr);
    c.height = Math.round(h * dpr);
    const g = c.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const points = [...this.series.values()].flat();
    // Show what there is, from one minute up to the kept history (a fresh page is not a sliver).
    const first = Math.min(now, ...points.map((p) => p[0]));
    const span = Math.min(this.spanMs, Math.max(60_000, now - first));
    this.empty.hidden = points.length > 0;
    this.root.dataset.series = String(this.series.size);
    const lo = this.o.min ?? 0;
    const hi = this.o.max ?? Math.max(1, ...points.map((p) => p[1])) * 1.1;
    const padL = 34;
    const x = (t: number): number => padL + ((t - (now - span)) / span) * (w - padL - 4);
    const y = (v: number): number => h - 14 - ((v - lo) / (hi - lo || 1)) * (h - 22);
    g.strokeStyle = 'rgba(127,127,127,0.25)';
    g.fillStyle = 'rgba(160,160,160,0.9)';
    g.font = '10px system-ui, sans-serif';
    g.lineWidth = 1;
    for (let i = 0; i <= 2; i++) {
      const v = lo + ((hi - lo) * i) / 2;
      g.beginPath();
      g.moveTo(padL, y(v));
      g.lineTo(w - 4, y(v));
      g.stroke();
      g.fillText(this.fmt(v, hi - lo < 10 ? 1 : 0), 2, y(v) + 3);
    }
    g.fillText(span >= 120_000 ? `−${Math.round(span / 60000)} min` : `−${Math.round(span / 1000)} s`, padL, h - 2);
    g.fillText('now', w - 24, h - 2);
    let i = 0;
    for (const s of this.series.values()) {
      g.strokeStyle = classColor(i++);
      g.lineWidth = 1.5;
      g.beginPath();
      s.forEach(([t, v], k) => (k === 0 ? g.moveTo(x(t), y(v)) : g.lineTo(x(t), y(v))));
      g.stroke();
    }
    this.legend.replaceChildren(
      ...[...this.series].map(([name, s], k) => {
        const item = document.createElement('span');
        item.dataset.name = name;
        const last = s[s.length - 1];
        if (last) item.dataset.value = String(last[1]);
        const dot = document.createElement('i');
        dot.style.background = classColor(k);
        item.append(dot, `${name} ${last ? this.fmt(last[1], this.o.digits ?? 0) : '–'}`);
        return item;
      }),
    );
  }

  private fmt(v: number, digits: number): string {
    return this.o.format ? this.o.format(v) : `${v.toFixed(digits)}${this.o.unit}`;
  }
}

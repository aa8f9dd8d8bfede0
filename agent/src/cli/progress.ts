import type { Output } from './types.js';
import { visibleLength, type Palette } from './style.js';

/**
 * Progress of long work (package create, conversion, rollouts) on stderr: label, bar, percent,
 * elapsed time and ETA in one line that fits 80 columns (or the terminal, when narrower). On a
 * TTY the line is redrawn in place (elapsed keeps ticking), and log lines print above it; on a
 * pipe a line is printed only when the stage or the tenth changes, so logs stay short. Nothing
 * is printed with --json.
 */
export const MAX_WIDTH = 80;

export interface ProgressState {
  readonly label: string;
  /** 0..1, or null when the work gives no measure (then only elapsed is shown). */
  readonly fraction: number | null;
  readonly detail: string;
  /** Remaining ms when the caller knows better than the rate so far (null: unknown). */
  readonly etaMs?: number | null;
  /** Draw the bar (default true); a detail that already counts things may do without. */
  readonly bar?: boolean;
  /**
   * How long the work took last time (e.g. the previous engine build on this board): without a
   * measured fraction, the bar and ETA follow the elapsed time against it (capped at 99 %).
   */
  readonly expectedMs?: number;
}

/** 12s, 3m05s, 1h02m. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Remaining time at the rate so far; null until there is enough to go on. */
export function rateEta(fraction: number | null, elapsedMs: number): number | null {
  if (fraction === null || fraction <= 0.01 || elapsedMs < 1000) return null;
  if (fraction >= 1) return 0;
  return (elapsedMs * (1 - fraction)) / fraction;
}

function clip(s: string, width: number): string {
  return s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`;
}

/** The line, never wider than `width`: the numbers first, then the detail, then the label (at least 12 columns). */
export function progressText(state: ProgressState, elapsedMs: number, width = MAX_WIDTH, c?: Palette): string {
  const expected = state.expectedMs;
  const p: ProgressState =
    state.fraction === null && expected !== undefined && expected > 0
      ? { ...state, fraction: Math.min(0.99, elapsedMs / expected), etaMs: elapsedMs < expected ? expected - elapsedMs : null }
      : state;
  const eta = p.etaMs !== undefined ? p.etaMs : rateEta(p.fraction, elapsedMs);
  const pct = p.fraction === null ? '' : `${String(Math.floor(Math.min(1, Math.max(0, p.fraction)) * 100)).padStart(3)}%`;
  const barWidth = 12;
  const filled = p.fraction === null ? 0 : Math.round(Math.min(1, Math.max(0, p.fraction)) * barWidth);
  const bar = p.fraction === null || p.bar === false ? '' : `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`;
  const time = `${shortDuration(elapsedMs)}${eta === null || (p.fraction ?? 0) >= 1 ? '' : ` ETA ${shortDuration(eta)}`}`;
  const fixed = [bar, pct, time].filter(Boolean).join(' ');
  const room = width - 1 - fixed.length - 1;
  const detailText = p.detail ? clip(p.detail, Math.max(0, room - 13)) : '';
  const label = clip(p.label, Math.max(12, room - (detailText ? detailText.length + 1 : 0)));
  const detail = detailText ? ` ${detailText}` : '';
  const line = `${label}${detail} ${fixed}`;
  const out = clip(line, width - 1);
  return c ? c.cyan(out.slice(0, label.length)) + out.slice(label.length) : out;
}

export interface ProgressOptions {
  readonly now?: () => number;
  /** Columns of the terminal (stderr), when known. */
  readonly columns?: number;
  readonly write?: (s: string) => void;
  /** When the work started, if before this process (a resumed rollout). */
  readonly startedAt?: number;
}

export class ProgressLine {
  private state: ProgressState;
  private readonly t0: number;
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;
  private lastKey = '';
  private readonly now: () => number;
  private readonly write: (s: string) => void;
  private readonly width: number;

  constructor(
    private readonly out: Output,
    label: string,
    o: ProgressOptions = {},
  ) {
    this.now = o.now ?? (() => Date.now());
    this.write = o.write ?? ((s) => process.stderr.write(s));
    // A pty without a size (script(1), some CI runners) reports 0 columns.
    const cols = o.columns ?? process.stderr.columns;
    this.width = cols && cols > 20 ? Math.min(MAX_WIDTH, cols) : MAX_WIDTH;
    this.t0 = o.startedAt ?? this.now();
    this.state = { label, fraction: null, detail: '' };
    if (this.live) {
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref();
    }
  }

  private get live(): boolean {
    return this.out.errTTY && !this.out.json;
  }

  elapsed(): number {
    return this.now() - this.t0;
  }

  update(p: Partial<ProgressState>): void {
    this.state = { ...this.state, ...p };
    if (this.out.json) return;
    if (this.live) {
      this.draw();
      return;
    }
    const key = `${this.state.detail}|${this.state.fraction === null ? '' : Math.floor(this.state.fraction * 10)}`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.write(`${progressText(this.state, this.elapsed(), this.width)}\n`);
  }

  /** A line above the progress line (decisions, warnings). */
  log(line: string): void {
    if (this.out.json) return;
    if (this.live && this.drawn) this.write('\r\x1b[K');
    this.write(`${line}\n`);
    if (this.live) this.draw();
  }

  private draw(): void {
    const text = progressText(this.state, this.elapsed(), this.width, this.out.colorErr.enabled ? this.out.colorErr : undefined);
    if (visibleLength(text) >= this.width) return;
    this.write(`\r\x1b[K${text}`);
    this.drawn = true;
  }

  /** Stops redrawing; the last line stays (with its final elapsed time). */
  end(final?: Partial<ProgressState>): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (final) this.state = { ...this.state, ...final };
    if (this.out.json) return;
    if (this.live) {
      this.draw();
      this.write('\n');
    } else if (final) {
      this.lastKey = '';
      this.update({});
    }
  }
}

import { AgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Component } from '../core/lifecycle.js';
import { spawnLines } from '../platform/exec.js';
import { sleep, systemClock, type Clock } from '../platform/clock.js';
import { parseTegrastatsLine, type TegrastatsSample } from './tegrastats.js';

/**
 * Long-running `tegrastats --interval <ms>` (jtop runs `/usr/bin/tegrastats --interval <ms>`,
 * docs/reference/tegrastats.md "Fields"), restarted with capped backoff whenever it exits. Keeps the last
 * parsed sample; lines that do not parse are counted, never fatal.
 */
export interface TegrastatsReaderOptions {
  /** Absolute path of the tegrastats binary; null when it is not installed. */
  readonly binary: string | null;
  readonly intervalMs: number;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly maxBackoffMs?: number;
  readonly onSample?: (s: TegrastatsSample) => void;
}

export interface TegrastatsState {
  readonly running: boolean;
  readonly restarts: number;
  readonly sample: TegrastatsSample | null;
  readonly badLines: number;
  readonly lastError: string | null;
}

export class TegrastatsReader implements Component {
  readonly name = 'tegrastats';
  private ac: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private st: { running: boolean; restarts: number; sample: TegrastatsSample | null; badLines: number; lastError: string | null } = {
    running: false,
    restarts: 0,
    sample: null,
    badLines: 0,
    lastError: null,
  };
  private starts = 0;

  constructor(private readonly o: TegrastatsReaderOptions) {}

  get state(): TegrastatsState {
    return { ...this.st };
  }

  async start(): Promise<void> {
    if (!this.o.binary) return;
    const ac = new AbortController();
    this.ac = ac;
    this.loop = this.supervise(this.o.binary, ac.signal);
    await Promise.resolve();
  }

  private async supervise(binary: string, signal: AbortSignal): Promise<void> {
    let backoff = 500;
    const max = this.o.maxBackoffMs ?? 30000;
    while (!signal.aborted) {
      if (this.starts++ > 0) this.st.restarts++;
      this.st.running = true;
      let gotLine = false;
      try {
        const res = await spawnLines(binary, ['--interval', String(this.o.intervalMs)], {
          signal,
          onLine: (line, stream) => {
            if (stream === 'stderr') {
              if (line.trim()) this.st.lastError = line.trim();
              return;
            }
            const r = parseTegrastatsLine(line);
            if (r.ok) {
              gotLine = true;
              this.st.sample = r.sample;
              this.o.onSample?.(r.sample);
            } else if (line.trim()) this.st.badLines++;
          },
        });
        if (signal.aborted) break;
        this.st.lastError = `tegrastats exited (${res.signal ?? `code ${String(res.exitCode)}`})${this.st.lastError ? `: ${this.st.lastError}` : ''}`;
      } catch (err) {
        if (signal.aborted) break;
        this.st.lastError = err instanceof AgentError ? err.message : String(err);
      }
      this.st.running = false;
      const e = new AgentError('TEGRASTATS_FAILED', this.st.lastError ?? 'tegrastats exited.', { hint: 'It is restarted automatically; see docs/hardware-validation.md.' });
      this.o.log.warn({ restarts: this.st.restarts }, e.toLine());
      if (gotLine) backoff = 500;
      await sleep(backoff, signal, this.o.clock ?? systemClock).catch(() => undefined);
      backoff = Math.min(max, backoff * 2);
    }
    this.st.running = false;
  }

  async stop(): Promise<void> {
    this.ac?.abort();
    await this.loop;
  }
}

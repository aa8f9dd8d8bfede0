import { AgentError } from '../core/errors.js';
import { Counter, Gauge, Histogram, type Registry } from './metrics.js';

/** A model named in a swap (the one leaving and the one coming). */
export interface SwapModel {
  readonly name: string;
  readonly version: string;
}

/**
 * Where a `swapMode: replace` gap stands: the old model draining and unloading, the new one
 * loading (load + warm-up + golden check), or the old one loading again after the new one was
 * refused.
 */
export type SwapPhase = 'draining' | 'loading' | 'reloading';

/** What GET /v1/models shows while a gap is open (InferenceStatus.swap). */
export interface SwapStatus {
  readonly from: SwapModel;
  readonly to: SwapModel;
  readonly phase: SwapPhase;
  /** Requests waiting for the gap to end. */
  readonly held: number;
  /** How long the gap has lasted so far. */
  readonly elapsedMs: number;
}

/** Held requests, 503 answers and the longest hold since the previous call (health snapshot). */
export interface SwapHoldStats {
  readonly held: number;
  readonly rejected: number;
  /** Longest time a request was held (answered or refused), null when none was held. */
  readonly longestHoldMs: number | null;
}

export interface SwapHoldOptions {
  /** The bound: held requests beyond it answer OVERLOADED at once (inference.maxQueue). */
  readonly maxHeld: number;
  /** inference.swapHoldMs, only to name it in the 503's message. */
  readonly holdMs: number;
  readonly registry: Registry;
  readonly now?: () => number;
}

interface Waiter {
  readonly at: number;
  readonly timer: NodeJS.Timeout;
  resolve(): void;
  reject(err: AgentError): void;
}

/** Seconds; a gap on a Nano is load + warm-up of a TensorRT engine (seconds), beyond LATENCY_BUCKETS' 10 s. */
const HOLD_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60] as const;

/**
 * The waiting room for requests that arrive while `swapMode: replace` has no model loaded
 * (old one drained and unloaded, new one loading; or the old one reloading after a refused
 * activation). Requests wait in arrival order and go on to whichever model serves when the gap
 * ends. Admission is the server's overload rule (Batcher.submit): past `maxHeld` waiting a
 * request answers OVERLOADED at once; past its deadline it answers MODEL_NOT_READY. Both are
 * 503 with Retry-After (http/errors.ts). A held request never waits without a deadline.
 */
export class SwapHold {
  private gap: { from: SwapModel; to: SwapModel; phase: SwapPhase; since: number } | null = null;
  private waiters: Waiter[] = [];
  private readonly now: () => number;
  private interval = { held: 0, rejected: 0, longest: null as number | null };
  private readonly heldTotal: Counter;
  private readonly rejectedTotal: Counter;
  private readonly longest: Gauge;
  private readonly duration: Histogram;
  private longestMs = 0;

  constructor(private readonly o: SwapHoldOptions) {
    this.now = o.now ?? (() => performance.now());
    this.heldTotal = o.registry.register(new Counter('jetson_swap_held_requests_total', 'Requests held while swapMode replace had no model loaded (a model swap or a reload after a refused activation).'));
    this.rejectedTotal = o.registry.register(
      new Counter('jetson_swap_rejected_requests_total', 'Held requests answered 503 by reason: deadline (inference.swapHoldMs), queue_full (inference.maxQueue), no_model (neither model loaded), stopping.'),
    );
    this.longest = o.registry.register(new Gauge('jetson_swap_hold_longest_seconds', 'Longest time one request was held during a swap, since the agent started.'));
    this.duration = o.registry.register(new Histogram('jetson_swap_hold_duration_seconds', 'How long held requests waited, by outcome (served|rejected).', HOLD_BUCKETS));
    this.longest.set(0);
  }

  get open(): boolean {
    return this.gap !== null;
  }

  /** Opens the gap: from here requests wait in wait() instead of failing. */
  begin(from: SwapModel, to: SwapModel): void {
    this.gap = { from, to, phase: 'draining', since: this.now() };
  }

  phase(p: SwapPhase): void {
    if (this.gap) this.gap = { ...this.gap, phase: p };
  }

  /** A model serves again: every held request goes on, in arrival order. */
  end(): void {
    this.gap = null;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      this.settled(w, 'served');
      w.resolve();
    }
  }

  /** No model serves after the gap (or the service stops): every held request answers `err`. */
  fail(err: AgentError, reason: 'no_model' | 'stopping' = 'no_model'): void {
    this.gap = null;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      this.reject(w, err, reason);
    }
  }

  /**
   * Waits until the gap ends (resolves at once when none is open). Rejects OVERLOADED when
   * `maxHeld` requests already wait, MODEL_NOT_READY at `deadline` (a `now()` time).
   */
  wait(deadline: number): Promise<void> {
    const gap = this.gap;
    if (!gap) return Promise.resolve();
    const swap = `${ref(gap.from)} is replaced by ${ref(gap.to)}`;
    if (this.waiters.length >= this.o.maxHeld) {
      this.rejectedTotal.inc({ reason: 'queue_full' });
      this.interval.rejected++;
      return Promise.reject(
        new AgentError('OVERLOADED', `The inference queue is full (${this.o.maxHeld} requests held while ${swap}).`, {
          hint: 'Retry after the Retry-After delay, or raise inference.maxQueue.',
        }),
      );
    }
    const at = this.now();
    this.heldTotal.inc();
    this.interval.held++;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          const i = this.waiters.indexOf(w);
          if (i < 0) return;
          this.waiters.splice(i, 1);
          const phase = this.gap?.phase ?? gap.phase;
          this.reject(
            w,
            new AgentError('MODEL_NOT_READY', `The request was held ${Math.round(this.now() - at)} ms while ${swap} (${phase}), longer than inference.swapHoldMs (${this.o.holdMs} ms).`, {
              hint: 'Retry after the Retry-After delay; if swaps on this board take longer (see loadMs in the activation result), raise inference.swapHoldMs.',
            }),
            'deadline',
          );
        },
        Math.max(0, deadline - at),
      );
      const w: Waiter = { at, timer, resolve, reject };
      this.waiters.push(w);
    });
  }

  status(): SwapStatus | null {
    const g = this.gap;
    return g ? { from: g.from, to: g.to, phase: g.phase, held: this.waiters.length, elapsedMs: Math.round(this.now() - g.since) } : null;
  }

  /** Counts since the previous call, then reset (one health interval). */
  drainStats(): SwapHoldStats {
    const s = this.interval;
    this.interval = { held: 0, rejected: 0, longest: null };
    return { held: s.held, rejected: s.rejected, longestHoldMs: s.longest === null ? null : Math.round(s.longest) };
  }

  private reject(w: Waiter, err: AgentError, reason: string): void {
    this.rejectedTotal.inc({ reason });
    this.interval.rejected++;
    this.settled(w, 'rejected');
    w.reject(err);
  }

  private settled(w: Waiter, outcome: 'served' | 'rejected'): void {
    const ms = this.now() - w.at;
    this.duration.observe(ms / 1000, { outcome });
    if (ms > this.longestMs) {
      this.longestMs = ms;
      this.longest.set(ms / 1000);
    }
    if (this.interval.longest === null || ms > this.interval.longest) this.interval.longest = ms;
  }
}

const ref = (m: SwapModel): string => `${m.name}@${m.version}`;

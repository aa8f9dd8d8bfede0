import type { HealthSnapshot } from '../../core/contracts/health.js';
import type { InferenceMetrics } from '../../inference/metrics.js';
import type { InferenceStatus } from '../../inference/service.js';
import { boardPoint, PointRing, type BoardPoint } from './board-point.js';
import type { ConsoleDeps } from './deps.js';
import { readMetrics, servingPoint, type MetricsReading, type ServingPoint } from './serving-stats.js';

export interface ConsoleTick {
  readonly board: BoardPoint;
  readonly serving: ServingPoint;
  readonly model: { readonly active: { name: string; version: string } | null; readonly state: InferenceStatus['state'] };
  readonly historyRev: number;
}

/**
 * The console's one timeline: every health snapshot becomes a board point and, read at the same
 * moment, a serving point; both are kept for `historySec` and pushed to the open event streams.
 * Held by the server for its whole life, so a console opened later still sees the last minutes
 * (from the MQTT health snapshots at least; live samples only while a console watches).
 */
export class ConsoleHub {
  private readonly board: PointRing<BoardPoint>;
  private readonly serving: PointRing<ServingPoint>;
  private readonly clients = new Set<(t: ConsoleTick) => void>();
  private last: MetricsReading | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly deps: ConsoleDeps,
    private readonly metrics: InferenceMetrics,
    private readonly status: () => InferenceStatus,
  ) {
    this.board = new PointRing(deps.historySec * 1000);
    this.serving = new PointRing(deps.historySec * 1000);
  }

  start(): void {
    this.unsubscribe ??= this.deps.feed.onSnapshot((s) => this.onSnapshot(s));
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.clients.clear();
  }

  private onSnapshot(s: HealthSnapshot): void {
    const st = this.status();
    const reading = readMetrics(this.metrics, this.deps.now(), st.queueDepth);
    const tick: ConsoleTick = {
      board: boardPoint(s),
      serving: servingPoint(this.last, reading),
      model: { active: st.active ? { name: st.active.name, version: st.active.version } : null, state: st.state },
      historyRev: this.deps.historyRevision(),
    };
    this.last = reading;
    this.board.push(tick.board);
    this.serving.push(tick.serving);
    for (const c of this.clients) c(tick);
  }

  history(): { readonly board: readonly BoardPoint[]; readonly serving: readonly ServingPoint[] } {
    return { board: this.board.all(), serving: this.serving.all() };
  }

  /** A stream joins: it gets every tick and keeps the board sampled until `release`. */
  join(send: (t: ConsoleTick) => void): () => void {
    this.clients.add(send);
    const unwatch = this.deps.feed.watch();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.clients.delete(send);
      unwatch();
    };
  }

  get watchers(): number {
    return this.clients.size;
  }
}

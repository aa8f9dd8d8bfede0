import type { HealthSnapshot } from '../../core/contracts/health.js';
import type { HistoryEntry } from '../../core/contracts/history.js';
import type { BoardSummary } from '../../core/contracts/topics.js';

/**
 * What the board console needs from the rest of the agent, wired by the composition root
 * (compose/console.ts): the http feature imports no other feature.
 */
export interface BoardFeed {
  /** Every health snapshot: the published ones and, while a console watches, the live samples. */
  onSnapshot(fn: (s: HealthSnapshot) => void): () => void;
  /** While held, the board is sampled every `sampleSec`; the returned function releases it. */
  watch(): () => void;
}

export interface StoredModelInfo {
  readonly name: string;
  readonly version: string;
  readonly network: string;
  readonly format: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly addedAt: string;
}

export interface ConsoleDeps {
  /** Directory of the built page (agent/dist/console: index.html, app.js …). */
  readonly assetsDir: string;
  readonly sampleSec: number;
  readonly historySec: number;
  readonly feed: BoardFeed;
  device(): { readonly deviceId: string | null; readonly board: BoardSummary | null };
  /** Models served without a package (the generated demo model). */
  readonly builtInModels: readonly { readonly name: string; readonly version: string }[];
  storedModels(): Promise<readonly StoredModelInfo[]>;
  history(): Promise<readonly HistoryEntry[]>;
  /** Changes whenever the history does (each tick carries it, so the page reloads only then). */
  historyRevision(): number;
  now(): number;
}

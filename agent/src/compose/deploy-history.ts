import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { HISTORY_MAX_ENTRIES, HISTORY_VERSION, HistoryFileSchema, type HistoryEntry } from '../core/contracts/history.js';
import { isTerminal, type DeploymentReport } from '../core/contracts/deployment.js';
import type { Logger } from '../core/log.js';
import { mkdirp, readJsonMaybe, writeJsonAtomic } from '../platform/fs.js';

export const historyFile = (stateDir: string): string => path.join(stateDir, 'deployments', 'history.json');

/**
 * This board's deployment history (core/contracts/history.ts): appended in call order, each
 * write atomic, bounded to the newest HISTORY_MAX_ENTRIES. A failed write is logged, never
 * thrown (the history is for people; a deployment must not fail for it). An unreadable or
 * malformed file reads as empty and is replaced on the next write (logged).
 */
export class DeploymentHistory {
  private chain: Promise<void> = Promise.resolve();
  private rev = 0;

  /** Goes up with every write: the console reloads the history when it changes. */
  get revision(): number {
    return this.rev;
  }

  constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {}

  async read(): Promise<HistoryEntry[]> {
    try {
      const raw = await readJsonMaybe(this.file);
      if (raw === undefined) return [];
      if (Value.Check(HistoryFileSchema, raw)) return [...raw.entries];
      this.log.warn({ file: this.file }, 'the deployment history is malformed; starting a new one');
    } catch (err) {
      this.log.warn({ file: this.file, err: String(err) }, 'the deployment history is unreadable; starting a new one');
    }
    return [];
  }

  record(entry: HistoryEntry): Promise<void> {
    this.chain = this.chain
      .then(async () => {
        const entries = await this.read();
        // The last report is re-sent after every reconnect: record a deployment's end once.
        if (entry.kind === 'deployment' && entries.some((e) => e.kind === 'deployment' && e.deploymentId === entry.deploymentId && e.state === entry.state)) return;
        entries.push(entry);
        await mkdirp(path.dirname(this.file), 0o750);
        await writeJsonAtomic(this.file, { v: HISTORY_VERSION, entries: entries.slice(-HISTORY_MAX_ENTRIES) });
        this.rev++;
      })
      .catch((err: unknown) => this.log.warn({ file: this.file, err: String(err) }, 'could not record the deployment history'));
    return this.chain;
  }

  /** A deployment report: terminal ones are recorded. */
  report(r: Pick<DeploymentReport, 'deploymentId' | 'source' | 'state' | 'model' | 'previous' | 'error' | 'updatedAt'>): Promise<void> {
    if (!isTerminal(r.state)) return Promise.resolve();
    return this.record({
      at: r.updatedAt,
      kind: 'deployment',
      deploymentId: r.deploymentId,
      source: r.source,
      state: r.state,
      model: r.model ? { name: r.model.name, version: r.model.version } : null,
      previous: r.previous ? { name: r.previous.name, version: r.previous.version } : null,
      ...(r.error ? { error: { code: r.error.code, message: r.error.message } } : {}),
    });
  }
}

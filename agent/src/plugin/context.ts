import type { BoardInfo } from '../core/contracts/board.js';
import type { Logger } from '../core/log.js';
import type { HostPaths } from '../platform/paths.js';
import type { PluginRecords } from './records.js';
import type { PluginStatePaths } from './state-paths.js';

/** What every plugin operation needs; the CLI and the daemon build it. */
export interface PluginContext {
  readonly paths: HostPaths;
  /** The agent's state (builds, request exchange); never read to decide what root writes. */
  readonly state: PluginStatePaths;
  /** Root-only records (journal, installed record, backups, lock). */
  readonly records: PluginRecords;
  readonly board: BoardInfo;
  readonly log: Logger;
  readonly now: () => Date;
  /** Progress: one short step description at a time. */
  readonly onStep?: (step: string) => void;
}

import { readJsonMaybe, removePath, mkdirp, writeJsonAtomic, fsyncDir } from '../platform/fs.js';
import path from 'node:path';
import type { PluginStatePaths } from './state-paths.js';

/**
 * Intent journal: written (atomically) before the library directory is touched and removed
 * after the outcome is recorded, so a crash at any instant leaves a record of what was
 * under way. Recovery (recover.ts) finishes or rolls back from it.
 */
export interface InstalledRecord {
  /** Board path of the system file that now holds the custom build. */
  readonly library: string;
  readonly sha256: string;
  readonly backup: { readonly dir: string; readonly sha256: string };
  readonly builtFor: { readonly arch: string; readonly branch: string; readonly tensorrt: string } | null;
  /** Package owning the library at swap time (drift: its version changed). */
  readonly package: { readonly name: string; readonly version: string } | null;
  readonly diversion: { readonly divertTo: string } | null;
  readonly source: string;
  readonly installedAt: string;
}

export type Journal =
  | {
      readonly op: 'install';
      readonly target: string;
      readonly linkName: string;
      /** Bytes at the target before this operation (original or a previous custom build). */
      readonly oldSha: string;
      readonly newSha: string;
      readonly backupSha: string;
      /** Whether this operation registers the diversion (undo it when rolling back). */
      readonly addsDiversion: boolean;
      readonly record: InstalledRecord;
      readonly startedAt: string;
    }
  | {
      readonly op: 'restore';
      readonly target: string;
      readonly linkName: string;
      readonly backupSha: string;
      readonly fromSha: string;
      readonly startedAt: string;
    };

export async function readJournal(state: PluginStatePaths): Promise<Journal | undefined> {
  return readJsonMaybe<Journal>(state.journalFile);
}

export async function writeJournal(state: PluginStatePaths, j: Journal): Promise<void> {
  await mkdirp(state.pluginDir, 0o755);
  await writeJsonAtomic(state.journalFile, j, { mode: 0o644 });
}

export async function clearJournal(state: PluginStatePaths): Promise<void> {
  await removePath(state.journalFile);
  await fsyncDir(path.dirname(state.journalFile)).catch(() => undefined);
}

export async function readInstalled(state: PluginStatePaths): Promise<InstalledRecord | undefined> {
  return readJsonMaybe<InstalledRecord>(state.installedFile);
}

export async function writeInstalled(state: PluginStatePaths, r: InstalledRecord): Promise<void> {
  await mkdirp(state.pluginDir, 0o755);
  await writeJsonAtomic(state.installedFile, r, { mode: 0o644 });
}

export async function clearInstalled(state: PluginStatePaths): Promise<void> {
  await removePath(state.installedFile);
  await fsyncDir(path.dirname(state.installedFile)).catch(() => undefined);
}

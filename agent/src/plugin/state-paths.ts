import path from 'node:path';

/**
 * The agent's own plugin state (docs/reference/design-rules.md "Cross-cutting rules", state dir): builds and sources, and the exchange
 * directory `plugin/` where the agent drops a request for the root helper and reads the
 * helper's result and the records view root publishes. Nothing root acts on lives here
 * (records.ts).
 */
export interface PluginStatePaths {
  readonly stateDir: string;
  readonly buildsDir: string;
  readonly sourcesDir: string;
  /** Request/result exchange with the root helper, owned by the agent. */
  readonly pluginDir: string;
  /** Read-only copy of the root records for the unprivileged status (records-view.ts). */
  readonly viewFile: string;
  /** Pointer to the newest successful build (for `install --last-build`). */
  readonly lastBuildFile: string;
}

export function pluginStatePaths(stateDir: string): PluginStatePaths {
  const pluginDir = path.join(stateDir, 'plugin');
  return {
    stateDir,
    buildsDir: path.join(stateDir, 'builds'),
    sourcesDir: path.join(stateDir, 'builds', 'sources'),
    pluginDir,
    viewFile: path.join(pluginDir, 'records.json'),
    lastBuildFile: path.join(stateDir, 'builds', 'last.json'),
  };
}

/** Where releases before the root-only records kept them (migrate.ts reads them once). */
export function legacyRecordPaths(stateDir: string): { readonly journalFile: string; readonly installedFile: string; readonly backupsDir: string } {
  return {
    journalFile: path.join(stateDir, 'plugin', 'journal.json'),
    installedFile: path.join(stateDir, 'plugin', 'installed.json'),
    backupsDir: path.join(stateDir, 'backups'),
  };
}

import path from 'node:path';

/** Where the plugin feature keeps its state (DESIGN §3 state dir: builds/, backups/). */
export interface PluginStatePaths {
  readonly stateDir: string;
  readonly buildsDir: string;
  readonly sourcesDir: string;
  readonly backupsDir: string;
  readonly pluginDir: string;
  /** Intent journal of an install/restore in progress. */
  readonly journalFile: string;
  /** What is installed now when it is a custom build. */
  readonly installedFile: string;
  /** Pointer to the newest successful build (for `install --last-build`). */
  readonly lastBuildFile: string;
}

export function pluginStatePaths(stateDir: string): PluginStatePaths {
  const pluginDir = path.join(stateDir, 'plugin');
  return {
    stateDir,
    buildsDir: path.join(stateDir, 'builds'),
    sourcesDir: path.join(stateDir, 'builds', 'sources'),
    backupsDir: path.join(stateDir, 'backups'),
    pluginDir,
    journalFile: path.join(pluginDir, 'journal.json'),
    installedFile: path.join(pluginDir, 'installed.json'),
    lastBuildFile: path.join(stateDir, 'builds', 'last.json'),
  };
}

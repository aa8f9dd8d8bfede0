import path from 'node:path';

/**
 * What root acts on in a swap lives in the records directory (`plugin.recordsDir`, default
 * /var/lib/jetson-agent-root, a board path under --root): the intent journal, the installed
 * record, the backups of the original and the operation lock. It is root's, mode 0700, and
 * neither it nor a directory above it may be writable by anyone else (private-dir.ts checks
 * that before every use), so the unprivileged agent can neither plant nor swap a record
 * (issue #14; docs/provisioning.md "Who may read and write what").
 */
export interface PluginRecords {
  /** Host path of the records directory. */
  readonly dir: string;
  readonly backupsDir: string;
  /** Intent journal of an install/restore in progress. */
  readonly journalFile: string;
  /** What is installed now when it is a custom build. */
  readonly installedFile: string;
  /** One plugin operation at a time (op-lock.ts). */
  readonly lockFile: string;
  /** Written once the records of an older release were migrated (or there were none). */
  readonly migrationFile: string;
  /** Root-only copies of libraries to install (the `--last-build` artifact). */
  readonly stagingDir: string;
}

export function pluginRecords(hostDir: string): PluginRecords {
  return {
    dir: hostDir,
    backupsDir: path.join(hostDir, 'backups'),
    journalFile: path.join(hostDir, 'journal.json'),
    installedFile: path.join(hostDir, 'installed.json'),
    lockFile: path.join(hostDir, 'lock'),
    migrationFile: path.join(hostDir, 'migrated.json'),
    stagingDir: path.join(hostDir, 'staging'),
  };
}

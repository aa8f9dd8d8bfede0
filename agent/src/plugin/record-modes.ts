import path from 'node:path';
import { chmodOwnedNoFollow, listDir, withDirNoFollow } from '../platform/fs.js';
import type { PluginStatePaths } from './state-paths.js';

const SHA256_DIR = /^[0-9a-f]{64}$/;

/**
 * Root only. Releases before the unprivileged agent existed wrote the plugin records and
 * backups 0600/0700; the agent's status then cannot read them (PLUGIN_RECORDS_UNREADABLE).
 * Give the ones root owns the modes new releases write (0644 files, 0755 dirs; still root's).
 * The state dir is the agent's: every step goes through a handle that follows no symlink.
 */
export async function makeRecordsReadable(state: PluginStatePaths): Promise<void> {
  await withDirNoFollow(state.stateDir, (at) => chmodOwnedNoFollow(at(path.basename(state.pluginDir)), 0o755, 'dir'));
  await withDirNoFollow(state.pluginDir, async (at) => {
    for (const f of [state.installedFile, state.journalFile]) await chmodOwnedNoFollow(at(path.basename(f)), 0o644, 'file');
  });
  await withDirNoFollow(path.dirname(state.backupsDir), (at) => chmodOwnedNoFollow(at(path.basename(state.backupsDir)), 0o755, 'dir'));
  await withDirNoFollow(state.backupsDir, async (at) => {
    for (const sha of await listDir(at('.'))) {
      if (!SHA256_DIR.test(sha)) continue;
      await chmodOwnedNoFollow(at(sha), 0o755, 'dir');
      await withDirNoFollow(at(sha), async (inner) => {
        for (const name of await listDir(inner('.'))) await chmodOwnedNoFollow(inner(name), 0o644, 'file');
      });
    }
  });
}

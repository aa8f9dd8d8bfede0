import { AgentError } from '../core/errors.js';
import { lockHolder, tryLockFile } from '../platform/library.js';
import { ensurePrivateDir } from '../platform/private-dir.js';
import type { PluginContext } from './context.js';
import { migrateLegacyRecords } from './migrate.js';
import { publishRecordsView } from './records-view.js';

/** The pid of a live process holding the plugin lock (an install/restore under way), else undefined. */
export async function pluginLockHolder(ctx: PluginContext): Promise<number | undefined> {
  return lockHolder(ctx.records.lockFile);
}

/**
 * One plugin operation at a time across processes (CLI, root helper, daemon drift check):
 * the journal assumes a single writer. A killed owner's lock is taken over. Before anything
 * else the records directory is made (0700) and checked (PLUGIN_PATH_UNSAFE when it or a
 * directory above it could be changed by someone else), and an older release's records are
 * migrated once (migrate.ts). After the operation the records view is published for the
 * unprivileged status.
 */
export async function withPluginLock<T>(ctx: PluginContext, fn: () => Promise<T>): Promise<T> {
  const why = await ensurePrivateDir(ctx.records.dir);
  if (why) {
    throw new AgentError('PLUGIN_PATH_UNSAFE', `The plugin records directory ${ctx.records.dir} cannot be used safely: ${why}; nothing was changed.`, {
      hint: 'It and every directory above it must belong to root and be writable by nobody else (chown root:root, chmod go-w); or set plugin.recordsDir to such a directory.',
      details: { recordsDir: ctx.records.dir },
    });
  }
  const lock = await tryLockFile(ctx.records.lockFile);
  if ('heldBy' in lock) {
    throw new AgentError('BUSY', `Another plugin operation${lock.heldBy > 0 ? ` (pid ${lock.heldBy})` : ''} is running.`, {
      hint: 'Wait for it to finish, then retry.',
    });
  }
  try {
    await migrateLegacyRecords(ctx);
    return await fn();
  } finally {
    await publishRecordsView(ctx);
    await lock.release();
  }
}

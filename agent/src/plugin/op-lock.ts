import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { mkdirp } from '../platform/fs.js';
import { lockHolder, tryLockFile } from '../platform/library.js';
import type { PluginContext } from './context.js';

const lockFile = (ctx: PluginContext): string => path.join(ctx.state.pluginDir, 'lock');

/** The pid of a live process holding the plugin lock (an install/restore under way), else undefined. */
export async function pluginLockHolder(ctx: PluginContext): Promise<number | undefined> {
  return lockHolder(lockFile(ctx));
}

/**
 * One plugin operation at a time across processes (CLI, root helper, daemon drift check):
 * the journal assumes a single writer. A killed owner's lock is taken over.
 */
export async function withPluginLock<T>(ctx: PluginContext, fn: () => Promise<T>): Promise<T> {
  await mkdirp(ctx.state.pluginDir, 0o755);
  const lock = await tryLockFile(lockFile(ctx));
  if ('heldBy' in lock) {
    throw new AgentError('BUSY', `Another plugin operation${lock.heldBy > 0 ? ` (pid ${lock.heldBy})` : ''} is running.`, {
      hint: 'Wait for it to finish, then retry.',
    });
  }
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

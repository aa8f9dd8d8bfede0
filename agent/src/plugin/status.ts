import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { sha256File } from '../platform/fs.js';
import { readBackupMaybe } from './backup.js';
import type { PluginContext } from './context.js';
import { packageVersion } from './dpkg.js';
import { isPrivileged } from '../platform/host.js';
import { readInstalled, readJournal, type InstalledRecord } from './journal.js';
import { recoverPlugin } from './recover.js';
import { pluginLockHolder, withPluginLock } from './op-lock.js';
import { makeRecordsReadable } from './record-modes.js';
import { resolveSystemLibrary } from './resolve.js';

export interface PluginStatus {
  readonly library: string | null;
  readonly sha256: string | null;
  readonly origin: 'system' | 'custom';
  readonly builtFor: InstalledRecord['builtFor'];
  readonly backup: { readonly path: string; readonly sha256: string } | null;
  readonly drift: boolean;
  readonly reason: string;
}

/**
 * What is installed and whether it drifted (issue #3 §4): drift = the file is neither the
 * recorded custom build nor the backed-up original, or the TensorRT package version changed
 * since the swap (a package upgrade replaced or renamed the library, operations.md §4.2).
 * Reports only; never rebuilds.
 */
export async function pluginStatus(ctx: PluginContext, options: { recover?: boolean } = {}): Promise<PluginStatus> {
  // Recovery rewrites the system library: only root does it. The unprivileged agent (daemon
  // drift check, `plugin-status` request) reads the records root wrote and says when an
  // interrupted operation is waiting for root.
  if (!(options.recover ?? isPrivileged())) return readOnlyStatus(ctx);
  try {
    return await withPluginLock(ctx, async () => {
      await recoverPlugin(ctx);
      await makeRecordsReadable(ctx.state);
      return readStatus(ctx);
    });
  } catch (err) {
    // An install/restore is running in another process: report without recovering (read-only).
    if (err instanceof AgentError && err.code === 'BUSY') return readStatus(ctx);
    throw err;
  }
}

async function readOnlyStatus(ctx: PluginContext): Promise<PluginStatus> {
  try {
    const st = await readStatus(ctx);
    const j = await readJournal(ctx.state);
    if (!j) return st;
    // A journal with a live lock holder is a swap under way, not an interrupted one. Mid-swap
    // the file may be either version, so no drift is claimed; the next check sees the outcome.
    const holder = await pluginLockHolder(ctx);
    if (holder !== undefined) return { ...st, drift: false, reason: `a plugin ${j.op} is in progress (pid ${holder}, started ${j.startedAt})` };
    return { ...st, drift: true, reason: `an interrupted plugin ${j.op} (started ${j.startedAt}) awaits recovery; run \`sudo jetson-agent plugin status\` to finish or undo it (${st.reason})` };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if ((e.code === 'EACCES' || e.code === 'EPERM') && typeof e.path === 'string' && isInside(ctx.state.stateDir, e.path)) {
      throw new AgentError('PLUGIN_RECORDS_UNREADABLE', `The plugin records in ${ctx.state.stateDir} are not readable by this user (${e.path}); an older release wrote them root-only.`, {
        hint: 'Run `sudo jetson-agent plugin status` once; it makes the records readable (still owned by root).',
        cause: err,
      });
    }
    throw err;
  }
}

const isInside = (dir: string, p: string): boolean => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

async function readStatus(ctx: PluginContext): Promise<PluginStatus> {
  const installed = await readInstalled(ctx.state);
  let lib: Awaited<ReturnType<typeof resolveSystemLibrary>> | undefined;
  try {
    lib = await resolveSystemLibrary(ctx);
  } catch (err) {
    if (!(err instanceof AgentError) || err.code !== 'PLUGIN_LIBRARY_NOT_FOUND') throw err;
  }
  const backupOf = async (sha: string): Promise<PluginStatus['backup']> => {
    const b = await readBackupMaybe(ctx.state, sha);
    return b ? { path: b.file, sha256: sha } : null;
  };
  if (!lib) {
    return {
      library: null,
      sha256: null,
      origin: 'system',
      builtFor: null,
      backup: installed ? await backupOf(installed.backup.sha256) : null,
      drift: installed !== undefined,
      reason: installed ? `the swapped library ${installed.library} is gone (package removed or renamed)` : 'no libnvinfer_plugin on this host',
    };
  }
  const sha = await sha256File(lib.hostTarget);
  if (!installed) {
    return { library: lib.target, sha256: sha, origin: 'system', builtFor: null, backup: await backupOf(sha), drift: false, reason: 'the packaged library is installed' };
  }
  const backup = await backupOf(installed.backup.sha256);
  const base = { library: lib.target, sha256: sha, backup };
  if (lib.target !== installed.library) {
    return { ...base, origin: 'system', builtFor: null, drift: true, reason: `the library was renamed from ${installed.library} to ${lib.target} (package upgrade?)` };
  }
  if (sha !== installed.sha256 && sha !== installed.backup.sha256) {
    return { ...base, origin: 'system', builtFor: null, drift: true, reason: 'the library is neither the installed custom build nor the backed-up original (replaced by a package upgrade?)' };
  }
  if (installed.package) {
    const now = await packageVersion(ctx.paths, installed.package.name);
    if (now !== undefined && now !== installed.package.version) {
      return {
        ...base,
        origin: sha === installed.sha256 ? 'custom' : 'system',
        builtFor: sha === installed.sha256 ? installed.builtFor : null,
        drift: true,
        reason: `${installed.package.name} changed from ${installed.package.version} to ${now} since the swap; rebuild the plugin for the new TensorRT`,
      };
    }
  }
  if (sha === installed.sha256) return { ...base, origin: 'custom', builtFor: installed.builtFor, drift: false, reason: 'the custom build is installed' };
  return { ...base, origin: 'system', builtFor: null, drift: false, reason: 'the original library is back in place (restored outside the agent)' };
}

import { constants as fsc, promises as fsp } from 'node:fs';
import { AgentError } from '../core/errors.js';
import { isPrivileged } from '../platform/host.js';
import { readBackupMaybe } from './backup.js';
import type { PluginContext } from './context.js';
import { packageVersion } from './dpkg.js';
import { readInstalled, readJournal, type InstalledRecord } from './journal.js';
import { librarySha } from './library-file.js';
import { recoverPlugin } from './recover.js';
import { pluginLockHolder, withPluginLock } from './op-lock.js';
import { readRecordsView } from './records-view.js';
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

/** What the status reads: the root records themselves, or the view root published of them. */
interface RecordSource {
  readonly installed: InstalledRecord | undefined;
  readonly journal: { readonly op: string; readonly startedAt: string; readonly pid?: number | undefined } | undefined;
  backup(sha: string): Promise<PluginStatus['backup']>;
  lockHolder(): Promise<number | undefined>;
}

async function fromRecords(ctx: PluginContext): Promise<RecordSource> {
  return {
    installed: await readInstalled(ctx.records),
    journal: await readJournal(ctx.records),
    backup: async (sha) => {
      const b = await readBackupMaybe(ctx.records, sha);
      return b ? { path: b.file, sha256: sha } : null;
    },
    lockHolder: () => pluginLockHolder(ctx),
  };
}

async function fromView(ctx: PluginContext): Promise<RecordSource> {
  const v = await readRecordsView(ctx.state);
  return {
    installed: v?.installed ?? undefined,
    journal: v?.journal ?? undefined,
    backup: async (sha) => {
      await Promise.resolve();
      const b = v?.backups.find((x) => x.sha256 === sha);
      return b ? { path: b.file, sha256: sha } : null;
    },
    // The journal's writer holds the lock for the whole operation.
    lockHolder: async () => {
      await Promise.resolve();
      return v?.journal?.pid !== undefined && isAlive(v.journal.pid) ? v.journal.pid : undefined;
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * What is installed and whether it drifted (issue #3 §4): drift = the file is neither the
 * recorded custom build nor the backed-up original, or the TensorRT package version changed
 * since the swap (a package upgrade replaced or renamed the library, docs/plugin.md "Drift").
 * Reports only; never rebuilds.
 */
export async function pluginStatus(ctx: PluginContext, options: { recover?: boolean } = {}): Promise<PluginStatus> {
  // Recovery rewrites the system library: only root does it, from the root-only records. The
  // unprivileged agent (daemon drift check, `plugin-status` request) reads the view root
  // published (it cannot read the 0700 records dir) and says when an interrupted operation
  // is waiting for root.
  if (!(options.recover ?? isPrivileged())) return readOnlyStatus(ctx);
  try {
    return await withPluginLock(ctx, async () => {
      await recoverPlugin(ctx);
      return readStatus(ctx, await fromRecords(ctx));
    });
  } catch (err) {
    // An install/restore is running in another process: report without recovering (read-only).
    if (err instanceof AgentError && err.code === 'BUSY') return readOnlyStatus(ctx);
    throw err;
  }
}

async function readOnlyStatus(ctx: PluginContext): Promise<PluginStatus> {
  const readable = await fsp.access(ctx.records.dir, fsc.R_OK | fsc.X_OK).then(
    () => true,
    () => false,
  );
  const src = readable ? await fromRecords(ctx) : await fromView(ctx);
  const st = await readStatus(ctx, src);
  const j = src.journal;
  if (!j) return st;
  // A journal with a live lock holder is a swap under way, not an interrupted one. Mid-swap
  // the file may be either version, so no drift is claimed; the next check sees the outcome.
  const holder = await src.lockHolder();
  if (holder !== undefined) return { ...st, drift: false, reason: `a plugin ${j.op} is in progress (pid ${holder}, started ${j.startedAt})` };
  // Root recovers from its own records only (nothing the agent can write steers it), at the
  // next root plugin command or helper request.
  return {
    ...st,
    drift: true,
    reason: `an interrupted plugin ${j.op} (started ${j.startedAt}) awaits recovery by root; \`sudo jetson-agent plugin status\` finishes or undoes it from the root-only records (${st.reason})`,
  };
}

async function readStatus(ctx: PluginContext, src: RecordSource): Promise<PluginStatus> {
  const installed = src.installed;
  let lib: Awaited<ReturnType<typeof resolveSystemLibrary>> | undefined;
  try {
    lib = await resolveSystemLibrary(ctx);
  } catch (err) {
    if (!(err instanceof AgentError) || err.code !== 'PLUGIN_LIBRARY_NOT_FOUND') throw err;
  }
  const backupOf = (sha: string): Promise<PluginStatus['backup']> => src.backup(sha);
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
  const sha = await librarySha(lib);
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

import { AgentError } from '../core/errors.js';
import { fsError, isWritableDir, readBytes, sha256 } from '../platform/fs.js';
import { replaceFileAtomic } from '../platform/library.js';
import { putOriginalBack, ldconfig } from './apply.js';
import { backupBytes, ensureBackup, requireBackup, type Backup } from './backup.js';
import { checkLibrary } from './checks.js';
import type { PluginContext } from './context.js';
import { applyDiversion, planDiversion } from './diversion.js';
import { owningPackage } from './dpkg.js';
import { parseElf } from './elf.js';
import { clearInstalled, clearJournal, readInstalled, writeInstalled, writeJournal, type InstalledRecord } from './journal.js';
import { assertSafeLibraryDir, readLibrary } from './library-file.js';
import { assertPackageManagerIdle } from './lock.js';
import { recoverPlugin } from './recover.js';
import { withPluginLock } from './op-lock.js';
import { publishRecordsView } from './records-view.js';
import { resolveSystemLibrary } from './resolve.js';
import { verifyInstalled } from './verify.js';

export interface InstallRequest {
  /** Host path of the library to install. */
  readonly candidateFile: string;
  /** What to record as the source (the build's path when candidateFile is a staged copy). */
  readonly source?: string;
  readonly builtFor: InstalledRecord['builtFor'];
}

export interface InstallResult {
  readonly changed: boolean;
  readonly library: string;
  readonly sha256: string;
  readonly backup: { readonly dir: string; readonly sha256: string };
  readonly diversion: string | null;
  readonly loadCheck: string;
}

/**
 * The swap (issue #3 §2; docs/plugin.md "Swap"): checks first, backup outside the library
 * dir, journal, diversion, atomic replace under the system file name, ldconfig, verify,
 * automatic rollback to the original on any failure. Idempotent: installing the bytes that
 * are already installed only re-verifies. The target is the library root resolves
 * (resolve.ts); records and backups are root-only (records.ts); the new file gets the live
 * original's permission bits without special bits, owned by root (replaceFileAtomic).
 */
export async function installPlugin(ctx: PluginContext, req: InstallRequest): Promise<InstallResult> {
  return withPluginLock(ctx, () => install(ctx, req));
}

async function install(ctx: PluginContext, req: InstallRequest): Promise<InstallResult> {
  await recoverPlugin(ctx);
  ctx.onStep?.('checking the package manager lock');
  await assertPackageManagerIdle(ctx);
  const lib = await resolveSystemLibrary(ctx);
  let bytes: Buffer;
  try {
    bytes = await readBytes(req.candidateFile);
  } catch (err) {
    throw fsError('read the library to install', req.candidateFile, err);
  }
  const newSha = sha256(bytes);
  const live = await readLibrary(lib);
  const currentSha = sha256(live.bytes);
  let installed = await readInstalled(ctx.records);
  if (installed && (installed.library !== lib.target || currentSha !== installed.sha256)) {
    // The record no longer describes the file (package upgrade, manual restore): start over from what is there.
    ctx.log.warn({ recorded: installed.library, now: lib.target }, 'installed record is stale; treating the current file as the original');
    await clearInstalled(ctx.records);
    installed = undefined;
  }

  // The original: the backup of a previous swap, or the file there now.
  let original: Backup | undefined = installed ? await requireBackup(ctx.records, installed.backup.sha256) : undefined;
  const reference = parseElf(original ? await backupBytes(original) : live.bytes);
  ctx.onStep?.('checking the candidate');
  const check = checkLibrary(bytes, { machine: reference.machine, soname: reference.soname ?? lib.linkName });
  if (check.problems.length > 0) {
    throw new AgentError('PLUGIN_CANDIDATE_INVALID', `${req.candidateFile} cannot replace ${lib.target}: ${check.problems.join('; ')}. Nothing was changed.`, {
      hint: 'Build the plugin for this board and TensorRT version (jetson-agent plugin build) and install that output.',
      details: { problems: check.problems, missingCreators: check.missingCreators, missingSymbols: check.missingSymbols },
    });
  }

  if (installed && currentSha === newSha && installed.sha256 === newSha) {
    ctx.onStep?.('already installed; verifying');
    const v = await verifyInstalled(lib, { sha256: newSha, requireCreators: true });
    if (v.ok) {
      return { changed: false, library: lib.target, sha256: newSha, backup: installed.backup, diversion: installed.diversion?.divertTo ?? null, loadCheck: v.loadCheck };
    }
  }

  if (!(await isWritableDir(lib.hostLibDir))) {
    throw new AgentError('FS_ERROR', `The library directory ${lib.libDir} is not writable; nothing was changed.`, {
      hint: 'Run the swap as root (or through the jetson-agent-plugin-swap helper unit).',
      details: { libDir: lib.libDir },
    });
  }
  await assertSafeLibraryDir(lib);

  ctx.onStep?.('backing up the original');
  const pkg = await owningPackage(ctx.paths, lib.target);
  original ??= await ensureBackup(ctx.records, live.bytes, lib.target, pkg, ctx.now());
  const div = await planDiversion(ctx, lib);
  if ('unavailable' in div) ctx.log.info({ reason: div.unavailable }, 'no dpkg diversion for the swapped library');
  const divertTo = 'divertTo' in div ? div.divertTo : null;
  const record: InstalledRecord = {
    library: lib.target,
    sha256: newSha,
    backup: { dir: original.dir, sha256: original.manifest.sha256 },
    builtFor: req.builtFor,
    package: original.manifest.package ?? pkg,
    diversion: divertTo ? { divertTo } : null,
    source: req.source ?? req.candidateFile,
    installedAt: ctx.now().toISOString(),
  };
  await writeJournal(ctx.records, {
    op: 'install',
    target: lib.target,
    linkName: lib.linkName,
    oldSha: currentSha,
    newSha,
    backupSha: original.manifest.sha256,
    addsDiversion: divertTo !== null && !installed?.diversion,
    record,
    startedAt: ctx.now().toISOString(),
  });
  await publishRecordsView(ctx);

  let reason: string;
  try {
    if (divertTo) {
      ctx.onStep?.('registering the dpkg diversion');
      await applyDiversion(ctx, lib, original, live.mode);
    }
    ctx.onStep?.('replacing the library');
    await replaceFileAtomic(lib.hostTarget, bytes, live.mode);
    await ldconfig(ctx, lib);
    ctx.onStep?.('verifying');
    const v = await verifyInstalled(lib, { sha256: newSha, requireCreators: true });
    if (v.ok) {
      await writeInstalled(ctx.records, record);
      await clearJournal(ctx.records);
      return { changed: true, library: lib.target, sha256: newSha, backup: record.backup, diversion: divertTo, loadCheck: v.loadCheck };
    }
    reason = v.problems.join('; ');
  } catch (err) {
    reason = err instanceof Error ? err.message : String(err);
  }
  ctx.onStep?.('rolling back');
  ctx.log.error({ reason }, 'plugin swap failed; rolling back to the original');
  const back = await putOriginalBack(ctx, lib, original);
  await clearJournal(ctx.records);
  throw new AgentError('PLUGIN_VERIFY_FAILED', `The swapped library failed: ${reason}. ${back.ok ? 'The original library was restored and verified.' : `Restoring the original also failed verification: ${back.problems.join('; ')}.`}`, {
    hint: back.ok ? 'Check the build (jetson-agent plugin build) and retry; the system is as before.' : 'Reinstall the TensorRT plugin package.',
    details: { reason, rollbackOk: back.ok },
  });
}

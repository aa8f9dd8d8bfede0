import { createHash } from 'node:crypto';
import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { sha256, writeJsonAtomic } from '../platform/fs.js';
import { readRegularNoFollow } from '../platform/private-dir.js';
import { ensureBackup, MAX_LIBRARY_BYTES } from './backup.js';
import type { PluginContext } from './context.js';
import { hostDivertPath } from './diversion.js';
import { diversionOf, divertPathFor, owningPackage, packagedMd5 } from './dpkg.js';
import { readInstalled, readRecordFile, InstalledRecordSchema, writeInstalled } from './journal.js';
import { readLibrary } from './library-file.js';
import { resolveSystemLibrary, type SystemLibrary } from './resolve.js';
import { legacyRecordPaths } from './state-paths.js';
import { Type } from '@sinclair/typebox';

/**
 * Releases before the root-only records kept the journal, installed.json and backups in the
 * agent-owned state dir, where the agent account could have planted any of them. Root reads
 * them once, under the plugin lock, trusting nothing in them it cannot check against
 * root-owned evidence:
 * - no installed record, or one that no longer describes the library → nothing to migrate;
 * - an installed custom build → its backup is taken only when its bytes are the original as
 *   root knows it: the divert copy root wrote into the (root-owned) library directory under
 *   our dpkg diversion, or the md5 dpkg recorded for the packaged file (deb-md5sums(5));
 * - a journal (an interrupted operation of the older release) → refused.
 * Anything refused is PLUGIN_LEGACY_RECORDS with the manual step; nothing is changed and the
 * next run checks again. Once done, `migrated.json` in the records dir ends it for good.
 */
const LegacyManifestSchema = Type.Object({ name: Type.String({ pattern: '^libnvinfer_plugin\\.so[0-9.]*$' }), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) });

export async function migrateLegacyRecords(ctx: PluginContext): Promise<void> {
  if ((await readRegularNoFollow(ctx.records.migrationFile, 64 * 1024).catch(() => undefined)) !== undefined) return;
  const legacy = legacyRecordPaths(ctx.state.stateDir);
  const refuse = (why: string, pkg?: string): AgentError =>
    new AgentError('PLUGIN_LEGACY_RECORDS', `Plugin records of an older release in ${ctx.state.stateDir} (a directory the agent account can write) cannot be trusted: ${why}. Nothing was changed.`, {
      hint: `Check the library with \`jetson-agent plugin status\`; if it is not the packaged original, reinstall it (sudo apt-get install --reinstall ${pkg ?? 'libnvinfer-plugin<MAJOR>'}). Then remove the old records (sudo rm -r ${legacy.journalFile} ${legacy.installedFile} ${legacy.backupsDir}) and retry.`,
      details: { stateDir: ctx.state.stateDir },
    });
  let outcome = 'nothing to migrate';
  if (await exists(legacy.journalFile)) throw refuse(`an interrupted operation is recorded in ${legacy.journalFile}`);
  const installed = await readRecordFile(legacy.installedFile, InstalledRecordSchema, 'installed record (older release)').catch((err: unknown) => {
    throw refuse(err instanceof Error ? err.message : String(err));
  });
  if (installed && !(await readInstalled(ctx.records))) {
    const lib = await resolveSystemLibrary(ctx).catch(() => undefined);
    const live = lib ? await readLibrary(lib).catch(() => undefined) : undefined;
    if (lib && live && installed.library === lib.target && sha256(live.bytes) === installed.sha256) {
      const pkg = await owningPackage(ctx.paths, lib.target);
      const bytes = await legacyBackup(legacy.backupsDir, installed.backup.sha256);
      if (!bytes) throw refuse(`the backup ${path.join(legacy.backupsDir, installed.backup.sha256)} of the original is missing or damaged`, pkg?.name);
      const evidence = await originalEvidence(ctx, lib, pkg?.name, bytes);
      if (!evidence) throw refuse(`the backup ${path.join(legacy.backupsDir, installed.backup.sha256)} matches neither the divert copy in ${lib.libDir} nor the package's md5sums`, pkg?.name);
      const backup = await ensureBackup(ctx.records, bytes, lib.target, pkg, ctx.now());
      await writeInstalled(ctx.records, { ...installed, backup: { dir: backup.dir, sha256: backup.manifest.sha256 }, package: installed.package ?? pkg });
      outcome = `migrated the installed record and its backup (checked against ${evidence})`;
      ctx.log.warn({ from: legacy.installedFile, to: ctx.records.installedFile, evidence }, 'migrated the plugin records of an older release');
    }
  }
  await writeJsonAtomic(ctx.records.migrationFile, { version: 1, from: ctx.state.stateDir, outcome, at: ctx.now().toISOString() }, { mode: 0o600 });
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await readRegularNoFollow(file, 64 * 1024)) !== undefined;
  } catch {
    return true;
  }
}

async function legacyBackup(backupsDir: string, sha: string): Promise<Buffer | undefined> {
  const dir = path.join(backupsDir, sha);
  const manifest = await readRecordFile(path.join(dir, 'manifest.json'), LegacyManifestSchema, 'backup manifest (older release)').catch(() => undefined);
  if (manifest?.sha256 !== sha) return undefined;
  const r = await readRegularNoFollow(path.join(dir, manifest.name), MAX_LIBRARY_BYTES).catch(() => undefined);
  return r && sha256(r.data) === sha ? r.data : undefined;
}

/** Which root-owned evidence says `bytes` are the original library, or undefined. */
async function originalEvidence(ctx: PluginContext, lib: SystemLibrary, pkg: string | undefined, bytes: Buffer): Promise<string | undefined> {
  const divertTo = divertPathFor(lib.target);
  if ((await diversionOf(ctx.paths, lib.target))?.divertTo === divertTo) {
    const copy = await readRegularNoFollow(hostDivertPath(lib), MAX_LIBRARY_BYTES).catch(() => undefined);
    if (copy && sha256(copy.data) === sha256(bytes)) return `the divert copy ${divertTo}`;
  }
  if (pkg) {
    const md5 = await packagedMd5(ctx.paths, pkg, lib.target);
    if (md5 && createHash('md5').update(bytes).digest('hex') === md5) return `the md5sums of ${pkg}`;
  }
  return undefined;
}

import { Type, type Static } from '@sinclair/typebox';
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { fsp, fsyncDir, listDir, removePath, sha256, writeJsonAtomic } from '../platform/fs.js';
import { readRegularNoFollow } from '../platform/private-dir.js';
import { readRecordFile } from './journal.js';
import type { PluginRecords } from './records.js';

/**
 * Backups of the original library live in `<recordsDir>/backups/<sha256>/` — outside the
 * library directory, because a `lib*.so*` backup next to the original wins the SONAME link
 * on the next ldconfig run (docs/plugin.md "Swap"), and in the root-only records directory,
 * so nobody but root can plant one. A backup directory appears atomically (built under a
 * dot-name, fsynced, renamed, parent fsynced), so it is either complete or absent. It keeps
 * bytes only: 0600, owned by whoever made it; the mode and owner an install or restore gives
 * the library are derived from the live file (apply.ts libraryMode), never read from here.
 */
export const BackupManifestSchema = Type.Object(
  {
    originalPath: Type.String({ maxLength: 4096 }),
    name: Type.String({ pattern: '^libnvinfer_plugin\\.so[0-9.]*$' }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    size: Type.Integer({ minimum: 0 }),
    package: Type.Union([Type.Object({ name: Type.String(), version: Type.String() }, { additionalProperties: false }), Type.Null()]),
    createdAt: Type.String(),
  },
  { additionalProperties: false },
);
export type BackupManifest = Static<typeof BackupManifestSchema>;

export interface Backup {
  readonly dir: string;
  readonly file: string;
  readonly manifest: BackupManifest;
}

const MANIFEST = 'manifest.json';
/** Far above any libnvinfer_plugin (≈ 30–400 MB), so a runaway file cannot fill memory. */
export const MAX_LIBRARY_BYTES = 1024 * 1024 * 1024;

/** Back up `bytes` (the original just read from `boardPath` through an O_NOFOLLOW handle). */
export async function ensureBackup(records: PluginRecords, bytes: Buffer, boardPath: string, pkg: BackupManifest['package'], now: Date): Promise<Backup> {
  const sha = sha256(bytes);
  const existing = await readBackupMaybe(records, sha);
  if (existing) return existing;
  await fsp.mkdir(records.backupsDir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const name = path.basename(boardPath);
  const tmp = path.join(records.backupsDir, `.tmp-${sha.slice(0, 12)}-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    await fsp.mkdir(tmp, { mode: 0o700 });
    const fh = await fsp.open(path.join(tmp, name), fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const manifest: BackupManifest = { originalPath: boardPath, name, sha256: sha, size: bytes.length, package: pkg, createdAt: now.toISOString() };
    // Also fsyncs `tmp`, which makes the copy's own entry durable before the rename below.
    await writeJsonAtomic(path.join(tmp, MANIFEST), manifest, { mode: 0o600 });
    const dir = path.join(records.backupsDir, sha);
    await fsp.rename(tmp, dir);
    await fsyncDir(records.backupsDir);
    return { dir, file: path.join(dir, name), manifest };
  } catch (err) {
    await removePath(tmp);
    throw new AgentError('FS_ERROR', `Could not back up ${boardPath} into ${records.backupsDir}: ${err instanceof Error ? err.message : String(err)}.`, {
      hint: 'Check free space and permissions of the records directory (plugin.recordsDir); the system library was not changed.',
      cause: err,
    });
  }
}

/** A complete, self-consistent backup with this sha, or undefined. */
export async function readBackupMaybe(records: PluginRecords, sha: string): Promise<Backup | undefined> {
  if (!/^[0-9a-f]{64}$/.test(sha)) return undefined;
  const dir = path.join(records.backupsDir, sha);
  let manifest: BackupManifest | undefined;
  try {
    manifest = await readRecordFile(path.join(dir, MANIFEST), BackupManifestSchema, 'backup manifest');
  } catch (err) {
    // Unreadable is not damaged: the caller reports it.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw err;
    return undefined;
  }
  if (manifest?.sha256 !== sha) return undefined;
  const file = path.join(dir, manifest.name);
  const bytes = await readBackupBytes(file);
  return bytes && sha256(bytes) === sha ? { dir, file, manifest } : undefined;
}

/** The bytes of a backup file (O_NOFOLLOW, regular, bounded), or undefined. */
export async function readBackupBytes(file: string): Promise<Buffer | undefined> {
  try {
    return (await readRegularNoFollow(file, MAX_LIBRARY_BYTES))?.data;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw err;
    return undefined;
  }
}

/** The backup or PLUGIN_BACKUP_MISSING (restore and rollback must not guess). */
export async function requireBackup(records: PluginRecords, sha: string): Promise<Backup> {
  const b = await readBackupMaybe(records, sha);
  if (!b) {
    throw new AgentError('PLUGIN_BACKUP_MISSING', `The backup ${path.join(records.backupsDir, sha)} of the original library is missing or damaged; the library was not changed.`, {
      hint: 'Reinstall the TensorRT plugin package (apt-get install --reinstall libnvinfer-plugin<MAJOR>) to get the original back.',
      details: { sha256: sha },
    });
  }
  return b;
}

/** The bytes of a backup that `requireBackup` returned, re-read and re-checked. */
export async function backupBytes(b: Backup): Promise<Buffer> {
  const bytes = await readBackupBytes(b.file);
  if (!bytes || sha256(bytes) !== b.manifest.sha256) {
    throw new AgentError('PLUGIN_BACKUP_MISSING', `The backup ${b.file} changed or disappeared while in use; the library was not changed.`, {
      hint: 'Reinstall the TensorRT plugin package (apt-get install --reinstall libnvinfer-plugin<MAJOR>) to get the original back.',
    });
  }
  return bytes;
}

/** Remove half-made backup dirs left by a crash. */
export async function removeStaleBackupTemps(records: PluginRecords): Promise<void> {
  let removed = false;
  for (const n of await listDir(records.backupsDir)) {
    if (!n.startsWith('.tmp-')) continue;
    await removePath(path.join(records.backupsDir, n));
    removed = true;
  }
  if (removed) await fsyncDir(records.backupsDir);
}

/** sha256 of every complete backup (the records view lists them for the unprivileged status). */
export async function listBackups(records: PluginRecords): Promise<Backup[]> {
  const out: Backup[] = [];
  for (const n of await listDir(records.backupsDir)) {
    const b = /^[0-9a-f]{64}$/.test(n) ? await readBackupMaybe(records, n) : undefined;
    if (b) out.push(b);
  }
  return out;
}

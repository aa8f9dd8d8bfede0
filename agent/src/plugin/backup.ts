import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { fsp, fsyncDir, listDir, mkdirp, readJsonMaybe, removePath, sha256File, statMaybe, writeJsonAtomic } from '../platform/fs.js';
import type { PluginStatePaths } from './state-paths.js';

/**
 * Backups of the original library live in `state/backups/<sha256>/` — outside the library
 * directory, because a `lib*.so*` backup next to the original wins the SONAME link on the
 * next ldconfig run (operations.md §1 finding 1, §4.3). A backup directory appears
 * atomically (built under a dot-name, then renamed), so it is either complete or absent.
 */
export interface BackupManifest {
  readonly originalPath: string;
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly package: { readonly name: string; readonly version: string } | null;
  readonly createdAt: string;
}

export interface Backup {
  readonly dir: string;
  readonly file: string;
  readonly manifest: BackupManifest;
}

const MANIFEST = 'manifest.json';

export async function ensureBackup(
  state: PluginStatePaths,
  hostFile: string,
  boardPath: string,
  pkg: BackupManifest['package'],
  now: Date,
): Promise<Backup> {
  const sha = await sha256File(hostFile);
  const existing = await readBackupMaybe(state, sha);
  if (existing) return existing;
  // Readable by the unprivileged agent (plugin status), writable by root only.
  await mkdirp(state.backupsDir, 0o755);
  const st = await fsp.stat(hostFile);
  const name = path.basename(boardPath);
  const tmp = path.join(state.backupsDir, `.tmp-${sha.slice(0, 12)}-${process.pid}-${randomBytes(3).toString('hex')}`);
  await mkdirp(tmp, 0o755);
  try {
    const copy = path.join(tmp, name);
    await fsp.copyFile(hostFile, copy);
    const fh = await fsp.open(copy, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    if ((await sha256File(copy)) !== sha) throw new Error('the copy does not match the original (file changed while copying?)');
    const manifest: BackupManifest = {
      originalPath: boardPath,
      name,
      sha256: sha,
      size: st.size,
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      package: pkg,
      createdAt: now.toISOString(),
    };
    await writeJsonAtomic(path.join(tmp, MANIFEST), manifest, { mode: 0o644 });
    await fsyncDir(tmp);
    const dir = path.join(state.backupsDir, sha);
    await fsp.rename(tmp, dir);
    await fsyncDir(state.backupsDir);
    return { dir, file: path.join(dir, name), manifest };
  } catch (err) {
    await removePath(tmp);
    throw new AgentError('FS_ERROR', `Could not back up ${boardPath} into ${state.backupsDir}: ${err instanceof Error ? err.message : String(err)}.`, {
      hint: 'Check free space and permissions of the state directory; the system library was not changed.',
      cause: err,
    });
  }
}

/** A complete, self-consistent backup with this sha, or undefined. */
export async function readBackupMaybe(state: PluginStatePaths, sha: string): Promise<Backup | undefined> {
  const dir = path.join(state.backupsDir, sha);
  let manifest: BackupManifest | undefined;
  try {
    manifest = await readJsonMaybe<BackupManifest>(path.join(dir, MANIFEST));
  } catch (err) {
    // Unreadable is not damaged: the caller says how to fix the permissions.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw err;
    return undefined;
  }
  if (!manifest || manifest.sha256 !== sha || path.basename(manifest.name) !== manifest.name) return undefined;
  const file = path.join(dir, manifest.name);
  if (!(await statMaybe(file))) return undefined;
  if ((await sha256File(file)) !== sha) return undefined;
  return { dir, file, manifest };
}

/** The backup or PLUGIN_BACKUP_MISSING (restore and rollback must not guess). */
export async function requireBackup(state: PluginStatePaths, sha: string): Promise<Backup> {
  const b = await readBackupMaybe(state, sha);
  if (!b) {
    throw new AgentError('PLUGIN_BACKUP_MISSING', `The backup ${path.join(state.backupsDir, sha)} of the original library is missing or damaged; the library was not changed.`, {
      hint: 'Reinstall the TensorRT plugin package (apt-get install --reinstall libnvinfer-plugin<MAJOR>) to get the original back.',
      details: { sha256: sha },
    });
  }
  return b;
}

/** Remove half-made backup dirs left by a crash. */
export async function removeStaleBackupTemps(state: PluginStatePaths): Promise<void> {
  for (const n of await listDir(state.backupsDir)) if (n.startsWith('.tmp-')) await removePath(path.join(state.backupsDir, n));
}

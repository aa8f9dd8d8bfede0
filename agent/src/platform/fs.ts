import { constants as fsc, promises as fsp, type Stats } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import { AgentError } from '../core/errors.js';

/**
 * All file-system access goes through here (docs/reference/design-rules.md "Layout and imports": platform is the only OS seam).
 * Writes are atomic: a dot-prefixed temp file in the same directory (invisible to ldconfig,
 * docs/reference/library-swap.md "ldconfig and backups"), fsync, rename over the target, fsync the directory (docs/reference/library-swap.md "Atomic replacement from Node").
 */

export async function readText(file: string): Promise<string> {
  return fsp.readFile(file, 'utf8');
}

export async function readBytes(file: string): Promise<Buffer> {
  return fsp.readFile(file);
}

/** Read a file, or undefined when it does not exist (other errors propagate). */
export async function readTextMaybe(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function readBytesMaybe(file: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function readJsonMaybe<T = unknown>(file: string): Promise<T | undefined> {
  const text = await readTextMaybe(file);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

export function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export async function isWritableDir(dir: string): Promise<boolean> {
  try {
    await fsp.access(dir, fsc.W_OK | fsc.X_OK);
    return (await fsp.stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * mkdir -p. Not `fs.mkdir({recursive: true})`: on Node 20 that loops forever for paths
 * under /proc (ENOENT from a pseudo-filesystem parent), which a bad --state-dir can hit.
 */
export async function mkdirp(dir: string, mode?: number): Promise<void> {
  const target = path.resolve(dir);
  const missing: string[] = [];
  let cur = target;
  for (;;) {
    const st = await statMaybe(cur);
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${cur}'`), { code: 'ENOTDIR' });
      break;
    }
    missing.push(cur);
    const parent = path.dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  for (const d of missing.reverse()) {
    try {
      await fsp.mkdir(d, mode === undefined ? undefined : { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

export async function listDir(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export function tempNameFor(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

export interface AtomicWriteOptions {
  readonly mode?: number;
  /**
   * Give the file to this owner through the open handle, before the rename. A privileged
   * writer must never chown by path afterwards: in a directory another user owns, that
   * user can swap the name for a symlink between the rename and the chown.
   */
  readonly owner?: { readonly uid: number; readonly gid: number };
}

/** Write `data` to `target` atomically (temp + fsync + rename + fsync dir). */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const tmp = tempNameFor(target);
  const fh = await fsp.open(tmp, 'wx', options.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    if (options.owner !== undefined) await fh.chown(options.owner.uid, options.owner.gid);
    // After chown: it clears setuid/setgid bits, and the mode is what the caller asked for.
    if (options.mode !== undefined) await fh.chmod(options.mode);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

export async function writeJsonAtomic(target: string, value: unknown, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n', options);
}

/** Copy a file into place atomically, preserving nothing but content and the given mode. */
export async function copyFileAtomic(src: string, target: string, options: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempNameFor(target);
  try {
    await fsp.copyFile(src, tmp, fsc.COPYFILE_EXCL);
    const fh = await fsp.open(tmp, 'r+');
    try {
      if (options.mode !== undefined) await fh.chmod(options.mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function removePath(p: string): Promise<void> {
  await fsp.rm(p, { recursive: true, force: true });
}

export async function statMaybe(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.stat(p);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function lstatMaybe(p: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(p);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function readlinkMaybe(p: string): Promise<string | undefined> {
  try {
    return await fsp.readlink(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (isNotFound(err) || code === 'EINVAL') return undefined;
    throw err;
  }
}

export async function realpathMaybe(p: string): Promise<string | undefined> {
  try {
    return await fsp.realpath(p);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Turn an fs error into an actionable AgentError. */
export function fsError(action: string, target: string, err: unknown): AgentError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
  const hint =
    code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
      ? 'Run as a user that may write there (root for system paths) or choose another directory.'
      : code === 'ENOSPC'
        ? 'Free disk space and retry.'
        : 'Check that the path exists and is accessible.';
  return new AgentError('FS_ERROR', `Could not ${action} ${target} (${code}).`, { hint, cause: err });
}

export { fsp };

/** Free bytes available to this user on the file system holding `dir` (statfs bavail × bsize). */
export async function freeBytes(dir: string): Promise<{ free: number; total: number }> {
  const s = await fsp.statfs(dir);
  return { free: Number(s.bavail) * Number(s.bsize), total: Number(s.blocks) * Number(s.bsize) };
}

/** Append-mode write stream (download resume). */
export async function appendStream(file: string): Promise<WriteStream> {
  await Promise.resolve();
  return createWriteStream(file, { flags: 'a' });
}

/**
 * Run `fn` with a directory pinned: opened without following a final symlink, its entries
 * reached through `/proc/self/fd/<fd>/<name>` (Linux), so a user who controls the parent
 * cannot redirect a privileged caller elsewhere between checks. undefined when it is missing.
 */
export async function withDirNoFollow<T>(dir: string, fn: (at: (name: string) => string) => Promise<T>): Promise<T | undefined> {
  let fh: Awaited<ReturnType<typeof fsp.open>>;
  try {
    fh = await fsp.open(dir, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_DIRECTORY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (isNotFound(err) || code === 'ELOOP') return undefined;
    throw err;
  }
  try {
    return await fn((name) => path.join(`/proc/self/fd/${fh.fd}`, name));
  } finally {
    await fh.close();
  }
}

/**
 * chmod through a handle opened without following a symlink, only when this process owns the
 * file and it is of the expected kind. True when the mode was changed.
 */
export async function chmodOwnedNoFollow(file: string, mode: number, kind: 'file' | 'dir'): Promise<boolean> {
  let fh: Awaited<ReturnType<typeof fsp.open>>;
  try {
    fh = await fsp.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (err) {
    if (isNotFound(err) || (err as NodeJS.ErrnoException).code === 'ELOOP') return false;
    throw err;
  }
  try {
    const st = await fh.stat();
    if (st.uid !== process.getuid?.() || (kind === 'dir' ? !st.isDirectory() : !st.isFile()) || (st.mode & 0o7777) === mode) return false;
    await fh.chmod(mode);
    return true;
  } finally {
    await fh.close();
  }
}

/** Bytes of the regular files under `p` (links not followed); 0 when it does not exist. */
export async function treeBytes(p: string): Promise<number> {
  const st = await lstatMaybe(p);
  if (!st) return 0;
  if (!st.isDirectory()) return st.isFile() ? st.size : 0;
  let n = 0;
  for (const e of await listDir(p)) n += await treeBytes(path.join(p, e));
  return n;
}

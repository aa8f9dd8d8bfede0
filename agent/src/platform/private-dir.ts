import { createHash } from 'node:crypto';
import { constants as fsc, promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { fsyncDir, isNotFound } from './fs.js';

/**
 * Directories a privileged process may trust with plain paths: the directory and every one
 * above it is a real directory (no symlink), owned by root or by this process, and not
 * writable by group or others (unless sticky, like /tmp: then others cannot rename our
 * entries). Nobody else can then swap a name on the way between a check and a use, so
 * rename/unlink/open below it act on what was checked. OpenSSH's StrictModes applies the
 * same rule to ~/.ssh (sshd_config(5)).
 */
export async function untrustedReason(hostDir: string): Promise<string | undefined> {
  const euid = process.geteuid?.() ?? 0;
  const parts = path.resolve(hostDir).split(path.sep).filter(Boolean);
  for (let i = 0; i <= parts.length; i++) {
    const dir = '/' + parts.slice(0, i).join('/');
    let st: Stats;
    try {
      st = await fsp.lstat(dir);
    } catch (err) {
      return `${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    }
    if (st.isSymbolicLink()) return `${dir} is a symbolic link`;
    if (!st.isDirectory()) return `${dir} is not a directory`;
    if (st.uid !== 0 && st.uid !== euid) return `${dir} is owned by uid ${st.uid}`;
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) return `${dir} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`;
  }
  return undefined;
}

/**
 * Create `hostDir` (and missing parents, 0755) if needed, give it mode `mode` (0700) and
 * check it with untrustedReason. Returns the problem, or undefined when it is safe to use.
 */
export async function ensurePrivateDir(hostDir: string, mode = 0o700): Promise<string | undefined> {
  const missing: string[] = [];
  for (let d = path.resolve(hostDir); ; d = path.dirname(d)) {
    const st = await fsp.lstat(d).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (st) break;
    missing.unshift(d);
    if (path.dirname(d) === d) break;
  }
  for (const d of missing) {
    await fsp.mkdir(d, { mode: d === path.resolve(hostDir) ? mode : 0o755 }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    await fsyncDir(path.dirname(d));
  }
  const fh = await fsp.open(hostDir, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_DIRECTORY).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP' || err.code === 'ENOTDIR') return undefined;
    throw err;
  });
  if (!fh) return `${hostDir} is a symbolic link or not a directory`;
  try {
    const st = await fh.stat();
    if (st.uid === (process.geteuid?.() ?? 0) && (st.mode & 0o7777) !== mode) await fh.chmod(mode);
  } finally {
    await fh.close();
  }
  return untrustedReason(hostDir);
}

/**
 * Read a regular file without following a final symlink (O_NOFOLLOW; O_NONBLOCK so a FIFO
 * planted in its place cannot hang the reader), at most `max` bytes. ENOENT → undefined;
 * anything but a regular file, or a larger one, throws with `code` ELOOP/EINVAL/EFBIG.
 */
export async function readRegularNoFollow(file: string, max: number): Promise<{ data: Buffer; stat: Stats } | undefined> {
  let fh: Awaited<ReturnType<typeof fsp.open>>;
  try {
    fh = await fsp.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EINVAL', path: file });
    if (stat.size > max) throw Object.assign(new Error(`${file} is larger than ${max} bytes`), { code: 'EFBIG', path: file });
    return { data: await fh.readFile(), stat };
  } finally {
    await fh.close();
  }
}

/** sha256 of a regular file read through an O_NOFOLLOW handle (streamed: libraries are large). */
export async function sha256NoFollow(file: string): Promise<string> {
  const fh = await fsp.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  try {
    if (!(await fh.stat()).isFile()) throw Object.assign(new Error(`${file} is not a regular file`), { code: 'EINVAL', path: file });
    const hash = createHash('sha256');
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}

import { constants as fsc, promises as fsp } from 'node:fs';
import path from 'node:path';

export interface OwnedSubdir {
  /** Path of an entry of the subdirectory through the pinned handle (`/proc/self/fd/<fd>/<name>`). */
  readonly at: (name: string) => string;
  /** Owner of the parent directory (the unprivileged user the directory belongs to). */
  readonly owner: { readonly uid: number; readonly gid: number };
}

const PROC_FD = (fd: number, name: string): string => {
  if (name.includes('/') || name === '' || name === '.' || name === '..') throw new Error(`not a single file name: ${name}`);
  return path.join(`/proc/self/fd/${fd}`, name);
};

type Handle = Awaited<ReturnType<typeof fsp.open>>;

async function openDirNoFollow(p: string): Promise<Handle | undefined> {
  try {
    return await fsp.open(p, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_DIRECTORY);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Run `fn` inside `<parent>/<name>`, a directory another user owns, as a privileged process
 * must (the root helper in the agent's state dir): both directories are opened without
 * following a symlink and pinned, every entry is reached through the pinned handle
 * (`/proc/self/fd/<fd>/<entry>`, Linux), so the owner cannot redirect the caller to another
 * directory by renaming or replacing either one meanwhile. The subdirectory must belong to
 * the parent's owner or to this process. With `create`, a missing subdirectory is made with
 * that mode and given to the parent's owner through its handle. undefined when the parent
 * or the subdirectory is missing, a symlink or foreign.
 */
export async function withOwnedSubdir<T>(parent: string, name: string, fn: (dir: OwnedSubdir) => Promise<T>, options: { create?: number } = {}): Promise<T | undefined> {
  const ph = await openDirNoFollow(parent);
  if (!ph) return undefined;
  try {
    const pst = await ph.stat();
    const owner = { uid: pst.uid, gid: pst.gid };
    const sub = PROC_FD(ph.fd, name);
    let sh = await openDirNoFollow(sub);
    if (!sh && options.create !== undefined) {
      await fsp.mkdir(sub, { mode: options.create }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      sh = await openDirNoFollow(sub);
      if (sh && process.geteuid?.() === 0 && (await sh.stat()).uid === 0) {
        await sh.chown(owner.uid, owner.gid);
        await sh.chmod(options.create);
      }
      if (sh) await ph.sync();
    }
    if (!sh) return undefined;
    try {
      const sst = await sh.stat();
      if (sst.uid !== owner.uid && sst.uid !== process.geteuid?.()) return undefined;
      const fd = sh.fd;
      return await fn({ at: (n) => PROC_FD(fd, n), owner });
    } finally {
      await sh.close();
    }
  } finally {
    await ph.close();
  }
}

/**
 * Read `<base>/<rel>` where another user owns the tree: every directory on the way is opened
 * without following a symlink, relative to the previous handle, and the file itself with
 * O_NOFOLLOW, so no component can point the reader outside `base`. `rel` has no `..` or
 * empty components (the caller validates it). undefined when a component is missing; a
 * symlink anywhere throws with code ELOOP, a non-regular file with EINVAL, a larger one EFBIG.
 */
export async function readBeneathNoFollow(base: string, rel: string, max: number): Promise<Buffer | undefined> {
  const parts = rel.split('/');
  const name = parts.pop() ?? '';
  const handles: Handle[] = [];
  const open = async (p: string): Promise<Handle | undefined> => {
    try {
      return await fsp.open(p, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_DIRECTORY);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      // A symlink (ELOOP) or a file where a directory should be (ENOTDIR): never followed.
      if (code === 'ELOOP' || code === 'ENOTDIR') throw Object.assign(new Error(`${p} is a symbolic link or not a directory`), { code: 'ELOOP' });
      throw err;
    }
  };
  try {
    let cur = await open(base);
    if (!cur) return undefined;
    handles.push(cur);
    for (const part of parts) {
      cur = await open(PROC_FD(cur.fd, part));
      if (!cur) return undefined;
      handles.push(cur);
    }
    let fh: Handle;
    try {
      fh = await fsp.open(PROC_FD(cur.fd, name), fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error(`${rel} is not a regular file`), { code: 'EINVAL' });
      if (st.size > max) throw Object.assign(new Error(`${rel} is larger than ${max} bytes`), { code: 'EFBIG' });
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  } finally {
    for (const h of handles.reverse()) await h.close();
  }
}

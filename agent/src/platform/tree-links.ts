import { promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * Checks an extracted tree against itself (issue #14 "Symlink chains"): every symbolic link is
 * resolved by the kernel (realpath(3), following the whole chain), not by reading its text, and
 * must end at an existing path inside the tree. A textual check cannot see that `a/c → b/..`
 * climbs out when `a/b → ..` is itself a link: `b/..` is the parent of wherever `b` leads, here
 * the tree's own parent (path_resolution(7): `..` is taken after the link it follows). Also drops
 * setuid, setgid and sticky bits that survived extraction. Returns the first problem, or
 * undefined when the tree is clean.
 */
export interface TreeProblem {
  /** Path relative to the tree root. */
  readonly member: string;
  readonly reason: string;
}

export async function checkExtractedTree(root: string): Promise<TreeProblem | undefined> {
  const top = await fsp.realpath(root);
  const inside = (p: string): boolean => p === top || p.startsWith(top + path.sep);
  const walk = async (rel: string): Promise<TreeProblem | undefined> => {
    for (const e of await fsp.readdir(path.join(top, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(top, r);
      if (e.isSymbolicLink()) {
        const target = await fsp.readlink(full);
        let real: string;
        try {
          real = await fsp.realpath(full);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          return { member: r, reason: code === 'ELOOP' ? `symlink loops (${target})` : `symlink leads to nothing inside the package (${target})` };
        }
        if (!inside(real)) return { member: r, reason: `symlink leads outside the package (${target} resolves to ${real})` };
        continue;
      }
      const st = await fsp.lstat(full);
      if (st.mode & 0o7000) await fsp.chmod(full, st.mode & 0o777);
      if (e.isDirectory()) {
        const p = await walk(r);
        if (p) return p;
      }
    }
    return undefined;
  };
  return walk('');
}

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * Content hash of a directory tree (relative paths, file modes' exec bit, bytes, link
 * targets), skipping the named top-level entries. Used as the identity of a local source
 * tree for the build cache.
 */
export async function hashTree(dir: string, skipTopLevel: readonly string[] = []): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const entries = (await fsp.readdir(path.join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (rel === '' && skipTopLevel.includes(e.name)) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(dir, r);
      if (e.isDirectory()) {
        hash.update(`d ${r}\n`);
        await walk(r);
      } else if (e.isSymbolicLink()) {
        hash.update(`l ${r} ${await fsp.readlink(full)}\n`);
      } else if (e.isFile()) {
        const st = await fsp.stat(full);
        hash.update(`f ${r} ${st.mode & 0o111 ? 'x' : '-'} ${st.size}\n`);
        hash.update(await fsp.readFile(full));
      }
    }
  };
  await walk('');
  return hash.digest('hex');
}

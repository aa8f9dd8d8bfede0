import t from 'tap';
import { spawnSync } from 'node:child_process';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/cli.js';

const BOARDS = path.join(REPO_ROOT, 'test', 'fixtures', 'boards');

/** path → file content (hex) or `-> target` for links, for every entry except expected.json. */
function snapshot(dir: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    const r = path.join(rel, name);
    const st = lstatSync(path.join(dir, r));
    if (st.isSymbolicLink()) out.set(r, `-> ${readlinkSync(path.join(dir, r))}`);
    else if (st.isDirectory()) for (const [k, v] of snapshot(dir, r)) out.set(k, v);
    else if (name !== 'expected.json' && name !== 'make-fixtures.mjs') out.set(r, readFileSync(path.join(dir, r)).toString('hex'));
  }
  return out;
}

t.test('the committed fixture trees are exactly what make-fixtures.mjs writes (NUL bytes, symlinks)', async (t) => {
  const out = t.testdir();
  const r = spawnSync(process.execPath, [path.join(BOARDS, 'make-fixtures.mjs'), '--out', out], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const made = snapshot(out);
  const committed = snapshot(BOARDS);
  t.same([...committed.keys()], [...made.keys()], 'same files and links');
  for (const [k, v] of made) t.equal(committed.get(k), v, k);
  t.match(committed.get(path.join('nano-jp44', 'proc', 'device-tree', 'compatible')), /00$/, 'compatible ends in a NUL byte');
});

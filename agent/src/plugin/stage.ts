import { constants as fsc } from 'node:fs';
import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { fsp, removePath, sha256 } from '../platform/fs.js';
import { readBeneathNoFollow } from '../platform/owned-subdir.js';
import { ensurePrivateDir } from '../platform/private-dir.js';
import type { ArtifactRecord } from './artifact.js';
import { MAX_LIBRARY_BYTES } from './backup.js';
import type { PluginContext } from './context.js';

/**
 * `plugin install --last-build` run as root (Ansible, an operator) reads the agent's build
 * record, a file the agent account can write. Its `file` is therefore only a hint: the
 * library is read from beneath the builds directory without following any symlink, must
 * have the recorded sha256, and is copied into the root-only records dir (`staging/`), so
 * what is checked and installed is a copy nobody else can change. Returns the copy and a
 * cleanup function.
 */
export async function stageBuild(ctx: PluginContext, a: ArtifactRecord): Promise<{ file: string; cleanup: () => Promise<void> }> {
  const rel = path.relative(ctx.state.buildsDir, path.resolve(a.file));
  const refuse = (why: string): AgentError =>
    new AgentError('PLUGIN_NO_BUILD', `The recorded build ${a.file} cannot be installed: ${why}. Nothing was changed.`, {
      hint: 'Run `jetson-agent plugin build` again (as the agent user), then retry.',
    });
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw refuse(`it is not inside ${ctx.state.buildsDir}`);
  let data: Buffer | undefined;
  try {
    data = await readBeneathNoFollow(ctx.state.buildsDir, rel.split(path.sep).join('/'), MAX_LIBRARY_BYTES);
  } catch (err) {
    throw refuse(`${(err as NodeJS.ErrnoException).code === 'ELOOP' ? 'a symbolic link is on the way' : String((err as NodeJS.ErrnoException).code ?? err)}`);
  }
  if (!data) throw refuse('the file is missing');
  if (sha256(data) !== a.sha256) throw refuse(`its sha256 is not the recorded ${a.sha256}`);
  const why = (await ensurePrivateDir(ctx.records.dir)) ?? (await ensurePrivateDir(ctx.records.stagingDir));
  if (why) throw new AgentError('PLUGIN_PATH_UNSAFE', `The plugin records directory cannot be used safely: ${why}; nothing was changed.`, { hint: 'It and every directory above it must belong to root and be writable by nobody else.' });
  const dir = path.join(ctx.records.stagingDir, `${process.pid}-${Date.now()}`);
  await fsp.mkdir(dir, { mode: 0o700 });
  const file = path.join(dir, path.basename(rel));
  await fsp.writeFile(file, data, { mode: 0o600, flag: fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW });
  return { file, cleanup: () => removePath(dir) };
}

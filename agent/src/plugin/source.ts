import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { run } from '../platform/exec.js';
import { exists, fsp, listDir, mkdirp, readTextMaybe, removePath, sha256, sha256File, statMaybe } from '../platform/fs.js';
import { renamePath } from '../platform/library.js';
import { hashTree } from '../platform/tree-hash.js';
import type { PluginStatePaths } from './state-paths.js';
import type { TreeFiles } from './tree-shape.js';
import { parseNvInferVersionHeader, type TrtHeaderVersion } from './version.js';

export interface SourceTree {
  readonly dir: string;
  readonly kind: 'dir' | 'tarball' | 'git';
  readonly location: string;
  readonly commit: string | null;
  /** Stable identity of the source content (cache key input). */
  readonly identity: string;
  /** From the tree's include/NvInferVersion.h (the TRT_VERSION the build's file name carries). */
  readonly headerVersion: TrtHeaderVersion | undefined;
  /** The CMake files the plan reads the make target and -D variables from (tree-shape.ts). */
  readonly tree: TreeFiles;
}

export interface SourceRequest {
  readonly source?: string;
  readonly git?: string;
  readonly ref: string;
  readonly logFile?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

const unavailable = (message: string, hint: string, cause?: unknown): AgentError =>
  new AgentError('PLUGIN_SOURCE_UNAVAILABLE', message, { hint, ...(cause === undefined ? {} : { cause }) });

/** Unpacked tree, `.tar.gz` of one (offline boards), or `git clone -b <ref> --depth 1` + submodules. */
export async function resolveSource(state: PluginStatePaths, req: SourceRequest): Promise<SourceTree> {
  if (req.source) {
    const st = await statMaybe(req.source);
    if (!st) throw unavailable(`The source ${req.source} does not exist.`, 'Pass an unpacked TensorRT OSS tree or a .tar.gz of one.');
    if (st.isDirectory()) {
      return finish(req.source, 'dir', req.source, null, `dir:${await hashTree(req.source, ['.git', 'build', 'out'])}`);
    }
    return unpackTarball(state, req);
  }
  if (!req.git) throw unavailable('No source given.', 'Pass --source DIR|FILE.tar.gz or --git URL.');
  return cloneGit(state, req.git, req);
}

async function finish(dir: string, kind: SourceTree['kind'], location: string, commit: string | null, identity: string): Promise<SourceTree> {
  const header = await readTextMaybe(path.join(dir, 'include', 'NvInferVersion.h'));
  if (!(await exists(path.join(dir, 'CMakeLists.txt')))) {
    throw unavailable(`${location} is not a TensorRT OSS tree (no top-level CMakeLists.txt).`, 'Point --source at the unpacked NVIDIA/TensorRT repository.');
  }
  return { dir, kind, location, commit, identity, headerVersion: header ? parseNvInferVersionHeader(header) : undefined, tree: await readTreeFiles(dir) };
}

/**
 * The files tree-shape.ts evaluates: the top-level and plugin/ CMakeLists.txt, the cmake
 * modules and third_party/*.cmake they include, and the directories under plugin/ (where
 * each plugin's sources live; an absent directory is a plugin the tree cannot build).
 */
export async function readTreeFiles(dir: string): Promise<TreeFiles> {
  const files = new Map<string, string>();
  const dirs = new Set<string>();
  const read = async (rel: string): Promise<void> => {
    const text = await readTextMaybe(path.join(dir, rel));
    if (text !== undefined) files.set(rel, text);
  };
  await read('CMakeLists.txt');
  await read('plugin/CMakeLists.txt');
  for (const sub of ['plugin', 'cmake', 'cmake/modules', 'third_party']) {
    for (const name of await listDir(path.join(dir, sub))) {
      const rel = `${sub}/${name}`;
      const st = await statMaybe(path.join(dir, rel));
      if (st?.isDirectory()) dirs.add(rel);
      else if (st?.isFile() && sub !== 'plugin' && name.endsWith('.cmake')) await read(rel);
    }
  }
  for (const d of ['plugin', 'cmake', 'cmake/modules', 'third_party']) if ((await statMaybe(path.join(dir, d)))?.isDirectory()) dirs.add(d);
  return { files, dirs };
}

async function unpackTarball(state: PluginStatePaths, req: SourceRequest): Promise<SourceTree> {
  const file = req.source ?? '';
  const digest = await sha256File(file);
  const dest = path.join(state.sourcesDir, `tar-${digest.slice(0, 16)}`);
  if (!(await exists(dest))) {
    await mkdirp(state.sourcesDir, 0o750);
    const tmp = path.join(state.sourcesDir, `.unpack-${randomBytes(4).toString('hex')}`);
    await mkdirp(tmp);
    try {
      await run('tar', ['-xzf', file, '-C', tmp, '--no-same-owner'], { timeoutMs: req.timeoutMs ?? 600000, ...(req.signal ? { signal: req.signal } : {}), ...(req.logFile ? { logFile: req.logFile } : {}) });
      await renamePath(tmp, dest);
    } catch (err) {
      await removePath(tmp);
      throw unavailable(`Could not unpack ${file}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}.`, 'Check that the file is a complete .tar.gz of the TensorRT OSS tree.', err);
    }
  }
  // GitHub archives have one top-level directory (TensorRT-release-7.1/).
  const top = await listDir(dest);
  const only = top.length === 1 && top[0] ? path.join(dest, top[0]) : undefined;
  const dir = only && (await statMaybe(only))?.isDirectory() && !(await exists(path.join(dest, 'CMakeLists.txt'))) ? only : dest;
  return finish(dir, 'tarball', file, null, `tar:${digest}`);
}

async function cloneGit(state: PluginStatePaths, url: string, req: SourceRequest): Promise<SourceTree> {
  await mkdirp(state.sourcesDir, 0o750);
  const dest = path.join(state.sourcesDir, `git-${sha256(`${url}\n${req.ref}`).slice(0, 16)}`);
  const tmp = path.join(state.sourcesDir, `.clone-${randomBytes(4).toString('hex')}`);
  const opts = {
    timeoutMs: req.timeoutMs ?? 1800000,
    ...(req.signal ? { signal: req.signal } : {}),
    ...(req.logFile ? { logFile: req.logFile } : {}),
    env: { GIT_TERMINAL_PROMPT: '0' },
  };
  let commit: string;
  try {
    await run('git', ['clone', '-b', req.ref, '--depth', '1', url, tmp], opts);
    await run('git', ['-C', tmp, 'submodule', 'update', '--init', '--recursive'], opts);
    commit = (await run('git', ['-C', tmp, 'rev-parse', 'HEAD'], opts)).stdout.trim();
  } catch (err) {
    await removePath(tmp);
    const detail = err instanceof AgentError ? ((typeof err.details?.stderrTail === 'string' ? err.details.stderrTail : err.message).trim().split('\n').pop() ?? '') : String(err);
    throw unavailable(
      `Could not clone ${url} at ${req.ref}: ${detail}. The partial clone was removed.`,
      'Check the network, URL and --ref; on offline boards download the TensorRT OSS tarball elsewhere and pass --source FILE.tar.gz.',
      err,
    );
  }
  const prev = await readTextMaybe(path.join(dest, '.jetson-agent-commit'));
  if (prev?.trim() === commit) {
    await removePath(tmp);
  } else {
    await fsp.writeFile(path.join(tmp, '.jetson-agent-commit'), `${commit}\n`);
    await removePath(dest);
    await renamePath(tmp, dest);
  }
  return finish(dest, 'git', url, commit, `git:${commit}`);
}

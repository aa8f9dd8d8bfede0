import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { readRegularNoFollow, sha256NoFollow, untrustedReason } from '../platform/private-dir.js';
import { MAX_LIBRARY_BYTES } from './backup.js';
import type { SystemLibrary } from './resolve.js';

/**
 * The system library as root touches it. resolveSystemLibrary named the file; here it is
 * re-checked at the moment of use: opened with O_NOFOLLOW (a symlink in its place is
 * refused, never followed), a regular file, and before any write the library directory and
 * every directory above it must be root's (or this process's) and writable by nobody else
 * (untrustedReason), so no name can be swapped between this check and the rename.
 */
export async function readLibrary(lib: SystemLibrary): Promise<{ bytes: Buffer; mode: number }> {
  return readLibraryAt(lib.hostTarget, lib.target);
}

export async function readLibraryAt(hostFile: string, boardPath: string): Promise<{ bytes: Buffer; mode: number }> {
  let r: Awaited<ReturnType<typeof readRegularNoFollow>>;
  try {
    r = await readRegularNoFollow(hostFile, MAX_LIBRARY_BYTES);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EINVAL') throw unsafe(`${boardPath} is not a regular file (${code === 'ELOOP' ? 'a symbolic link' : 'another file type'})`, 'Reinstall the TensorRT plugin package (apt-get install --reinstall libnvinfer-plugin<MAJOR>).');
    throw err;
  }
  if (!r) throw new AgentError('PLUGIN_LIBRARY_NOT_FOUND', `${boardPath} disappeared.`, { hint: 'Install the TensorRT plugin package (libnvinfer-plugin<MAJOR>).' });
  return { bytes: r.data, mode: r.stat.mode & 0o7777 };
}

/** Refuse (PLUGIN_PATH_UNSAFE) unless nobody but root/this process can rename entries in the library dir. */
export async function assertSafeLibraryDir(lib: SystemLibrary): Promise<void> {
  for (const dir of [lib.hostLibDir, path.join(lib.hostLibDir, 'jetson-agent-diverted')]) {
    const why = await untrustedReason(dir).then((r) => (r?.endsWith(': ENOENT') && dir !== lib.hostLibDir ? undefined : r));
    if (why) throw unsafe(`the library directory ${lib.libDir} cannot be written safely: ${why}`, 'Give the directories back to root (chown root:root, chmod go-w) or remove the symbolic link, then retry.');
  }
}

export function unsafe(message: string, hint: string): AgentError {
  return new AgentError('PLUGIN_PATH_UNSAFE', `${message}; nothing was changed.`, { hint });
}

/** sha256 of the library file (O_NOFOLLOW, streamed). */
export async function librarySha(lib: SystemLibrary): Promise<string> {
  try {
    return await sha256NoFollow(lib.hostTarget);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EINVAL') throw unsafe(`${lib.target} is not a regular file`, 'Reinstall the TensorRT plugin package (apt-get install --reinstall libnvinfer-plugin<MAJOR>).');
    throw err;
  }
}

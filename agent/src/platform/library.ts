import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fsyncDir, writeFileAtomic } from './fs.js';
import { run, which } from './exec.js';
import { runtimeInfo, type RuntimeName } from './runtime.js';

/**
 * OS operations of the plugin swap that fs.ts does not cover: replacing a file with given
 * mode and owner (docs/reference/library-swap.md "Atomic replacement from Node"), hard links and directory renames for backups, the
 * load check in a child process ("Load check"), ldconfig ("ldconfig and backups") and the dpkg fcntl lock probe ("Swap sequence").
 */

/** Permission bits a library may carry: no setuid/setgid/sticky, no group or other write. */
export const LIBRARY_MODE_MASK = 0o755;

/**
 * Put `data` at `target` atomically: dot-prefixed temp in the same directory (invisible to
 * ldconfig, docs/reference/library-swap.md "ldconfig and backups"), fsync, chmod/chown, rename over, fsync the directory.
 * Running processes keep the old inode (no SIGBUS as with `cp` over a mapped file).
 * The mode is masked with LIBRARY_MODE_MASK and, run as root, the file is root's: a library
 * never gets a setuid/setgid bit or a foreign owner, whatever the caller passes (issue #14).
 */
export async function replaceFileAtomic(target: string, data: Uint8Array, mode: number): Promise<void> {
  const owner = process.geteuid?.() === 0 ? { uid: 0, gid: 0 } : undefined;
  await writeFileAtomic(target, data, { mode: mode & LIBRARY_MODE_MASK, ...(owner ? { owner } : {}) });
}

/** Remove leftover dot-temp files of replaceFileAtomic for `target` (after a crash). */
export async function removeStaleTemps(target: string): Promise<string[]> {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}.tmp-`;
  const removed: string[] = [];
  let names: string[] = [];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    await fsp.rm(path.join(dir, n), { force: true });
    removed.push(n);
  }
  if (removed.length > 0) await fsyncDir(dir);
  return removed;
}

export async function renamePath(from: string, to: string): Promise<void> {
  await fsp.rename(from, to);
  await fsyncDir(path.dirname(to));
}

export async function hardLink(existing: string, newPath: string): Promise<void> {
  await fsp.link(existing, newPath);
}

export async function removeFile(file: string): Promise<void> {
  await fsp.rm(file, { force: true });
}

export interface HostResources {
  readonly cpuCount: number;
  readonly memAvailableBytes: number;
}

export function hostResources(): HostResources {
  return { cpuCount: os.availableParallelism(), memAvailableBytes: os.freemem() };
}

export interface LoadCheckResult {
  readonly ok: boolean;
  readonly message: string;
}

/**
 * dlopen the library with RTLD_NOW in a child process (constructors run on load; keep them
 * out of the daemon). Under Node the child is Node: "Module did not self-register" means the
 * library loaded, it is just not a Node addon (docs/reference/library-swap.md "Load check"). Under Bun the child
 * is python3's ctypes: Bun's process.dlopen ignores its flags argument and binds lazily, so a
 * library with an unresolved symbol "loads" there (Bun 1.4.5; docs/architecture.md
 * "Runtimes", and test/integration/platform/bun-differences.test.ts proves it still does).
 * Both report dlerror(3)'s text on failure.
 */
export async function loadCheck(file: string, timeoutMs = 30000, runtime: RuntimeName = runtimeInfo().name): Promise<LoadCheckResult> {
  if (runtime === 'bun') return loadCheckPython(file, timeoutMs);
  const script = [
    'const os = require("node:os");',
    'try { process.dlopen({ exports: {} }, process.argv[1], os.constants.dlopen.RTLD_NOW); console.log("loaded"); }',
    'catch (e) { if (/did not self-register/.test(String(e.message))) { console.log("loaded"); } else { console.error(String(e.message)); process.exit(1); } }',
  ].join('\n');
  const r = await run(process.execPath, ['-e', script, file], { reject: false, timeoutMs });
  return r.exitCode === 0 ? { ok: true, message: 'loaded' } : { ok: false, message: (r.stderr || r.stdout).trim() || `exit ${r.exitCode}` };
}

async function loadCheckPython(file: string, timeoutMs: number): Promise<LoadCheckResult> {
  const script = ['import ctypes, os, sys', 'try:', '    ctypes.CDLL(sys.argv[1], mode=os.RTLD_NOW)', 'except OSError as e:', '    sys.stderr.write(str(e))', '    sys.exit(1)', 'print("loaded")'].join('\n');
  // An absolute path: CDLL must not search the loader's paths for a bare name.
  const python = (await which('python3', ['/usr/bin'])) ?? 'python3';
  const r = await run(python, ['-c', script, path.resolve(file)], { reject: false, timeoutMs });
  return r.exitCode === 0 ? { ok: true, message: 'loaded' } : { ok: false, message: (r.stderr || r.stdout).trim() || `exit ${r.exitCode}` };
}

/**
 * ldconfig against a host root: the real cache on `/`; for any other root only the given
 * library directories (`-n`: links only, no cache), so nothing outside the root is touched.
 */
export async function runLdconfig(root: string, libDirs: readonly string[]): Promise<void> {
  if (path.resolve(root) === '/') await run('ldconfig', [], { timeoutMs: 60000 });
  else await run('ldconfig', ['-n', ...libDirs], { timeoutMs: 60000 });
}

/**
 * Which of `files` are locked by someone else with an fcntl (POSIX record) lock — the kind
 * dpkg/apt take on /var/lib/dpkg/lock-frontend and lock. Node has no fcntl, and flock(1)
 * uses a different, non-interoperating lock type, so a python3 child probes with
 * lockf(LOCK_EX|LOCK_NB) and releases at once (docs/reference/library-swap.md "Swap sequence"). Missing files are free.
 */
export async function fcntlLocksHeld(files: readonly string[]): Promise<string[]> {
  const script = [
    'import fcntl, os, sys',
    'for p in sys.argv[1:]:',
    '    try:',
    '        fd = os.open(p, os.O_RDWR)',
    '    except FileNotFoundError:',
    '        continue',
    '    try:',
    '        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)',
    '        fcntl.lockf(fd, fcntl.LOCK_UN)',
    '    except OSError:',
    '        print(p)',
    '    finally:',
    '        os.close(fd)',
  ].join('\n');
  // The distribution's python3 first: version-manager shims (pyenv) cost ~0.4 s per call.
  const python = (await which('python3', ['/usr/bin'])) ?? 'python3';
  const r = await run(python, ['-c', script, ...files], { timeoutMs: 30000 });
  return r.stdout.split('\n').filter(Boolean);
}

/**
 * Exclusive lock file holding the owner's pid (`open(O_CREAT|O_EXCL)`). A lock whose pid is
 * no longer alive (the owner was killed) is taken over. Returns a release function, or the
 * live owner's pid when someone else holds it. Small race left: two processes taking over
 * the same stale lock at the same instant.
 */
export async function tryLockFile(file: string): Promise<{ release: () => Promise<void> } | { heldBy: number }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // Readable: the unprivileged agent's status asks whether the holder is alive (lockHolder).
      const fh = await fsp.open(file, 'wx', 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return { release: () => fsp.rm(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = await lockHolder(file);
    if (pid !== undefined && pid !== process.pid) return { heldBy: pid };
    // Stale (owner gone) or unreadable half-written lock: move it aside and retry.
    await fsp.rename(file, `${file}.stale-${process.pid}`).catch(() => undefined);
    await fsp.rm(`${file}.stale-${process.pid}`, { force: true });
  }
  return { heldBy: -1 };
}

/** The pid holding the lock file when that process is alive, else undefined. */
export async function lockHolder(file: string): Promise<number | undefined> {
  const pid = Number.parseInt((await fsp.readFile(file, 'utf8').catch(() => '')).trim(), 10);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

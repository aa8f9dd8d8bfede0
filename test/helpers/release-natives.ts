import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tar from 'tar';
import { REPO_ROOT } from './cli.js';

/**
 * The native (ELF) files a linux-<arch> release of the agent carries, found from the lockfile
 * alone, so an x86 machine can audit the arm64 release (docs/provisioning.md "glibc audit"):
 *
 * - production packages npm installs only on some platforms (`os`/`cpu`/`libc` in the lockfile:
 *   sharp's `@img/*`, Bun's `@oven/*`, onnxruntime-node) that match linux-<arch>-glibc are fetched as the exact
 *   tarballs the lockfile pins (`npm pack name@version`, then the lockfile's sha512 integrity is
 *   checked) and unpacked into a cache under node_modules/.cache: after one fetch the audit runs
 *   offline (npm's own cache keeps the tarballs across `npm ci` too);
 * - every other production package has the same files on every platform, so its ELF files are
 *   read from node_modules as installed.
 *
 * Anything added to `dependencies` later is covered without touching this list.
 */
export interface NativeFile {
  /** name@version of the npm package that carries the file. */
  readonly pkg: string;
  /** Path inside the package. */
  readonly file: string;
  /** Absolute path on this machine. */
  readonly abs: string;
}

export interface LockEntry {
  readonly version: string;
  readonly integrity?: string;
  readonly dev?: boolean;
  readonly os?: readonly string[];
  readonly cpu?: readonly string[];
  readonly libc?: readonly string[];
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
export const NATIVE_CACHE = path.join(REPO_ROOT, 'node_modules', '.cache', 'jetson-agent', 'release-natives');

export function readLock(root = REPO_ROOT): Record<string, LockEntry> {
  return (JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
}

/** Package name from a lockfile key (`node_modules/@img/sharp-linux-arm64` → `@img/sharp-linux-arm64`). */
export function lockName(key: string): string {
  return key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** npm's platform rule: a listed field must contain the value; an absent field allows all. */
export function installsOn(e: LockEntry, target: { os: string; cpu: string; libc: string }): boolean {
  return (!e.os || e.os.includes(target.os)) && (!e.cpu || e.cpu.includes(target.cpu)) && (!e.libc || e.libc.includes(target.libc));
}

function isElfFile(abs: string): boolean {
  const fd = openSync(abs, 'r');
  try {
    const head = Buffer.alloc(4);
    return readSync(fd, head, 0, 4, 0) === 4 && head.equals(ELF_MAGIC);
  } finally {
    closeSync(fd);
  }
}

/** ELF files under dir, skipping nested node_modules (those are packages of their own). */
function elfFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const abs = path.join(d, ent.name);
      if (ent.isDirectory()) {
        if (ent.name !== 'node_modules') walk(abs);
      } else if (ent.isFile() && statSync(abs).size >= 64 && isElfFile(abs)) out.push(abs);
    }
  };
  walk(dir);
  return out.sort();
}

/** The package tarball the lockfile pins, unpacked once into the cache; integrity-checked. */
async function fetchPinned(name: string, e: LockEntry): Promise<string> {
  const key = `${name.replace('/', '+')}@${e.version}`;
  const dir = path.join(NATIVE_CACHE, key);
  const stamp = path.join(dir, '.integrity');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === e.integrity) return dir;
  if (!e.integrity?.startsWith('sha512-')) throw new Error(`package-lock.json has no sha512 integrity for ${name}@${e.version}: run npm install to record it`);
  const work = path.join(NATIVE_CACHE, `.tmp-${key}-${String(process.pid)}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    let out: string;
    try {
      ({ stdout: out } = await promisify(execFile)('npm', ['pack', `${name}@${e.version}`, '--pack-destination', work, '--json', '--prefer-offline', '--ignore-scripts'], {
        cwd: work,
        maxBuffer: 16 * 1024 * 1024,
      }));
    } catch (err) {
      throw new Error(`npm pack ${name}@${e.version} failed (the audit needs the npm registry once, then npm's cache): ${(err as Error).message}`);
    }
    const packed = (JSON.parse(out) as { filename?: string }[])[0]?.filename;
    const tarball = path.join(work, readdirSync(work).find((f) => f.endsWith('.tgz')) ?? String(packed));
    const got = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (got !== e.integrity) throw new Error(`${name}@${e.version}: the registry's tarball is ${got}, package-lock.json pins ${e.integrity}`);
    const unpacked = path.join(work, 'package');
    mkdirSync(unpacked);
    await tar.x({ file: tarball, cwd: unpacked, strip: 1 });
    writeFileSync(path.join(unpacked, '.integrity'), e.integrity);
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
    return dir;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Lockfile keys of the production tree npm installs for a platform: from the root's
 * dependencies and optionalDependencies, through each package's own, resolved the way Node
 * finds a package (the nearest node_modules up from the requiring package), skipping what does
 * not install there and everything only it would pull in (sharp's wasm32 runtime, say).
 */
export function productionTree(lock: Readonly<Record<string, LockEntry>>, target: { os: string; cpu: string; libc: string }): string[] {
  const resolve = (from: string, name: string): string | undefined => {
    for (let base = from; ; ) {
      const key = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
      if (lock[key]) return key;
      if (!base) return undefined;
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  };
  const seen = new Set<string>();
  const visit = (from: string): void => {
    const e = lock[from];
    for (const name of Object.keys({ ...e?.dependencies, ...e?.optionalDependencies })) {
      const key = resolve(from, name);
      const dep = key ? lock[key] : undefined;
      if (!key || !dep || seen.has(key) || !installsOn(dep, target)) continue;
      seen.add(key);
      visit(key);
    }
  };
  visit('');
  return [...seen].sort();
}

/** Every ELF file of the production dependency tree as `npm ci --omit=dev --os=linux --cpu=<arch>` installs it. */
export async function releaseNatives(arch: 'arm64' | 'x64', root = REPO_ROOT): Promise<NativeFile[]> {
  const target = { os: 'linux', cpu: arch, libc: 'glibc' };
  const lock = readLock(root);
  const out: NativeFile[] = [];
  for (const key of productionTree(lock, target)) {
    const e = lock[key];
    if (!e) continue;
    const name = lockName(key);
    const platformSpecific = e.os !== undefined || e.cpu !== undefined || e.libc !== undefined;
    const dir = platformSpecific ? await fetchPinned(name, e) : path.join(root, key);
    if (!existsSync(dir)) throw new Error(`${key} is in package-lock.json but not installed: run npm ci`);
    for (const abs of elfFilesUnder(dir)) out.push({ pkg: `${name}@${e.version}`, file: path.relative(dir, abs), abs });
  }
  return out;
}

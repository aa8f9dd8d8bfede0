import path from 'node:path';
import { AgentError } from '../core/errors.js';
import type { ModelManifest } from '../core/contracts/model.js';
import { fsError, listDir, lstatMaybe, mkdirp, readJsonMaybe, readText, readTextMaybe, realpathMaybe, removePath, sha256File, statMaybe, writeJsonAtomic } from '../platform/fs.js';
import { makeTempDir, removeTree, renamePath } from '../platform/fs-stream.js';
import { extractTar, TarVeto } from '../platform/tar.js';
import { checkExtractedTree } from '../platform/tree-links.js';
import { isInsidePath, validateManifest } from './manifest.js';
import { parseCalibrationCache } from './calibration.js';
import { DEFAULT_MAX_MEMBERS, memberChecker, unsafeError } from './unpack.js';

/**
 * The package store: `state/packages/<sha256>/` holds an unpacked, validated package plus
 * `.intake.json`. Intake unpacks into a temp dir inside `packages/` and renames it into place
 * only after every check passed, so a failed intake leaves nothing behind (issue #4 §1).
 */
export interface StoredPackage {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly addedAt: string;
  readonly network: ModelManifest['network'];
  readonly format: ModelManifest['format'];
  /** Absolute directory of the unpacked package. */
  readonly dir: string;
}

interface IntakeRecord {
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly addedAt: string;
  readonly source: string;
}

export const INTAKE_FILE = '.intake.json';
const TEMP_PREFIX = '.incoming-';

export interface AddOptions {
  readonly stateDir: string;
  readonly file: string;
  readonly expectedSha256?: string;
  readonly expectedSize?: number;
  readonly maxBytes: number;
  readonly now: () => Date;
}

export interface AddResult {
  readonly pkg: StoredPackage;
  /** false when the identical package was already stored. */
  readonly added: boolean;
}

export function packagesDir(stateDir: string): string {
  return path.join(stateDir, 'packages');
}

function mismatch(message: string): AgentError {
  return new AgentError('PACKAGE_SHA256_MISMATCH', message, { hint: 'The package was corrupted or replaced in transit; fetch it again.' });
}

async function readManifestIn(dir: string): Promise<ModelManifest> {
  let raw: unknown;
  try {
    raw = await readJsonMaybe(path.join(dir, 'model.json'));
  } catch (err) {
    throw new AgentError('PACKAGE_INVALID', `model.json is not valid JSON: ${(err as Error).message}.`, { hint: 'Rebuild the package with `jetson-fleet package create`.' });
  }
  if (raw === undefined) throw new AgentError('PACKAGE_INVALID', 'The package has no model.json at its root.', { hint: 'Rebuild the package with `jetson-fleet package create`.' });
  return validateManifest(raw);
}

/** Every file model.json names must be a regular file that really lies inside the package. */
async function checkNamedFiles(dir: string, m: ModelManifest): Promise<void> {
  const named = [m.file, m.spec, m.calibration, ...(m.golden?.cases.map((c) => c.image) ?? [])].filter((p): p is string => p !== undefined);
  const root = (await realpathMaybe(dir)) ?? dir;
  for (const rel of named) {
    if (!isInsidePath(rel)) throw new AgentError('PACKAGE_INVALID', `model.json names "${rel}", which is not inside the package.`);
    const real = await realpathMaybe(path.join(dir, rel));
    const st = real ? await statMaybe(real) : undefined;
    if (!real || !st?.isFile()) throw new AgentError('PACKAGE_INVALID', `model.json names "${rel}", but the package has no such file.`, { hint: 'Rebuild the package with `jetson-fleet package create`.' });
    if (path.relative(root, real).startsWith('..')) throw new AgentError('PACKAGE_UNSAFE', `"${rel}" resolves outside the package.`);
  }
  if (m.calibration) parseCalibrationCache(await readText(path.join(dir, m.calibration)), m.calibration);
}

export async function addPackage(o: AddOptions): Promise<AddResult> {
  const st = await statMaybe(o.file).catch((err: unknown) => {
    throw fsError('read', o.file, err);
  });
  if (!st?.isFile()) throw new AgentError('FS_ERROR', `Package ${o.file} does not exist or is not a file.`, { hint: 'Check the path.' });
  if (o.expectedSize !== undefined && st.size !== o.expectedSize) throw mismatch(`Package ${o.file} has ${st.size} bytes, expected ${o.expectedSize}.`);
  if (st.size > o.maxBytes) {
    throw new AgentError('PACKAGE_TOO_LARGE', `Package ${o.file} has ${st.size} bytes, more than models.maxPackageBytes (${o.maxBytes}).`, {
      hint: 'Raise models.maxPackageBytes or shrink the package.',
    });
  }
  const sha256 = await sha256File(o.file);
  if (o.expectedSha256 !== undefined && sha256 !== o.expectedSha256.toLowerCase()) {
    throw mismatch(`Package ${o.file} has sha256 ${sha256}, expected ${o.expectedSha256.toLowerCase()}.`);
  }
  const root = packagesDir(o.stateDir);
  await mkdirp(root, 0o750);
  const final = path.join(root, sha256);
  const existing = await readStored(final);
  if (existing) return { pkg: existing, added: false };

  const tmp = await makeTempDir(root, TEMP_PREFIX);
  try {
    try {
      await extractTar(o.file, tmp, { check: memberChecker({ maxTotalBytes: o.maxBytes, maxMembers: DEFAULT_MAX_MEMBERS }) });
    } catch (err) {
      if (err instanceof TarVeto) throw unsafeError(err.member, err.reason, path.basename(o.file));
      const msg = (err as Error).message;
      // node-tar refuses to write or link through a symlink the archive made (src/symlink-error.ts).
      const through = err as { code?: unknown; symlink?: unknown; path?: unknown };
      if (through.code === 'TAR_SYMLINK_ERROR') {
        const rel = (p: unknown): string => (typeof p === 'string' ? path.relative(tmp, p) || '.' : '?');
        throw unsafeError(rel(through.path), `it would be written or linked through the package's symlink ${rel(through.symlink)}`, path.basename(o.file));
      }
      if (/decompression ratio/.test(msg)) throw unsafeError('(gzip stream)', msg, path.basename(o.file));
      throw new AgentError('PACKAGE_INVALID', `${path.basename(o.file)} is not a readable tar or tar.gz: ${msg}.`, {
        hint: 'Rebuild the package with `jetson-fleet package create`.',
        cause: err,
      });
    }
    // Links are judged again on the written tree, where the kernel resolves whole chains.
    const problem = await checkExtractedTree(tmp);
    if (problem) throw unsafeError(problem.member, problem.reason, path.basename(o.file));
    const manifest = await readManifestIn(tmp);
    await checkNamedFiles(tmp, manifest);
    const clash = (await listPackages(o.stateDir)).find((p) => p.name === manifest.name && p.version === manifest.version);
    if (clash) {
      throw new AgentError('PACKAGE_CONFLICT', `${manifest.name}@${manifest.version} is already stored with sha256 ${clash.sha256}; this package is ${sha256}.`, {
        hint: `Bump the version, or run "jetson-agent models remove ${manifest.name}@${manifest.version}" first.`,
      });
    }
    const record: IntakeRecord = { sha256, sizeBytes: st.size, addedAt: o.now().toISOString(), source: path.basename(o.file) };
    await writeJsonAtomic(path.join(tmp, INTAKE_FILE), record);
    try {
      await renamePath(tmp, final);
    } catch (err) {
      const again = await readStored(final);
      if (again) return { pkg: again, added: false };
      throw fsError('store package in', final, err);
    }
  } catch (err) {
    await removeTree(tmp);
    throw err;
  }
  const pkg = await readStored(final);
  if (!pkg) throw new AgentError('INTERNAL', `Stored package ${sha256} cannot be read back.`);
  return { pkg, added: true };
}

async function readStored(dir: string): Promise<StoredPackage | undefined> {
  const text = await readTextMaybe(path.join(dir, INTAKE_FILE));
  if (text === undefined) return undefined;
  const rec = JSON.parse(text) as IntakeRecord;
  const m = await readManifestIn(dir);
  return { name: m.name, version: m.version, sha256: rec.sha256, sizeBytes: rec.sizeBytes, addedAt: rec.addedAt, network: m.network, format: m.format, dir };
}

export async function listPackages(stateDir: string): Promise<StoredPackage[]> {
  const root = packagesDir(stateDir);
  const out: StoredPackage[] = [];
  for (const name of await listDir(root)) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    const pkg = await readStored(path.join(root, name)).catch(() => undefined);
    if (pkg) out.push(pkg);
  }
  return out.sort((a, b) => (a.name === b.name ? a.addedAt.localeCompare(b.addedAt) : a.name.localeCompare(b.name)));
}

/** `NAME@VERSION`, a full sha256, or a path to a stored package directory. */
export async function findPackage(stateDir: string, ref: string): Promise<{ pkg: StoredPackage; manifest: ModelManifest }> {
  const all = await listPackages(stateDir);
  const at = ref.lastIndexOf('@');
  const pkg = /^[0-9a-f]{64}$/i.test(ref)
    ? all.find((p) => p.sha256 === ref.toLowerCase())
    : at > 0
      ? all.find((p) => p.name === ref.slice(0, at) && p.version === ref.slice(at + 1))
      : undefined;
  if (!pkg) {
    throw new AgentError('MODEL_NOT_FOUND', `No stored model package matches "${ref}".`, {
      hint: at > 0 || /^[0-9a-f]{64}$/i.test(ref) ? 'Run "jetson-agent models list" to see what is stored.' : 'Give NAME@VERSION or the package sha256.',
    });
  }
  return { pkg, manifest: await readManifestIn(pkg.dir) };
}

export async function removePackage(stateDir: string, ref: string): Promise<StoredPackage> {
  const { pkg } = await findPackage(stateDir, ref);
  // Rename first so a crash mid-delete never leaves a half package that lists as stored.
  const trash = path.join(packagesDir(stateDir), `.removing-${pkg.sha256}`);
  await removePath(trash);
  await renamePath(pkg.dir, trash);
  await removePath(trash);
  return pkg;
}

/** Leftovers of interrupted intakes/removals (called at daemon start). */
export async function cleanStaleTemp(stateDir: string): Promise<number> {
  let n = 0;
  for (const name of await listDir(packagesDir(stateDir))) {
    if (!name.startsWith(TEMP_PREFIX) && !name.startsWith('.removing-')) continue;
    const p = path.join(packagesDir(stateDir), name);
    if ((await lstatMaybe(p))?.isDirectory()) {
      await removePath(p);
      n++;
    }
  }
  return n;
}

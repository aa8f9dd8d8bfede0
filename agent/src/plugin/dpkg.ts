import path from 'node:path';
import { run, which } from '../platform/exec.js';
import { exists, fsyncDir, listDir, readTextMaybe } from '../platform/fs.js';
import { fcntlLocksHeld } from '../platform/library.js';
import type { HostPaths } from '../platform/paths.js';
import { compareVersions } from './version.js';

/**
 * dpkg facts for the swap (docs/reference/library-swap.md "dpkg-divert" and "Swap sequence"): the fcntl locks apt/dpkg hold, local
 * diversions (`--root` needs dpkg ≥ 1.19.2, `--no-rename` ≥ 1.19.1; Ubuntu 18.04 has
 * 1.19.0.5), package ownership and version of the library.
 */
export const DPKG_LOCKS = ['/var/lib/dpkg/lock-frontend', '/var/lib/dpkg/lock'] as const;
/** Divert target: a subdirectory of the library dir (same filesystem, ignored by ldconfig), never `<file>.distrib`. */
export const DIVERT_SUBDIR = 'jetson-agent-diverted';

export async function dpkgLocksHeld(paths: HostPaths): Promise<string[]> {
  const held = await fcntlLocksHeld(DPKG_LOCKS.map((p) => paths.toHost(p)));
  return held.map((h) => paths.fromHost(h));
}

export interface DivertTool {
  readonly program: string;
  readonly version: string;
  /** argv prefix selecting the root (`--root R` or nothing on `/`). */
  readonly rootArgs: readonly string[];
  readonly noRename: boolean;
}

/** dpkg-divert usable for this root, or a reason why not. */
export async function findDivertTool(paths: HostPaths): Promise<DivertTool | { unavailable: string }> {
  if (!(await exists(paths.toHost('/var/lib/dpkg')))) return { unavailable: 'no dpkg database (/var/lib/dpkg) on this root' };
  const program = await which('dpkg-divert');
  if (!program) return { unavailable: 'dpkg-divert is not installed' };
  const r = await run(program, ['--version'], { reject: false, timeoutMs: 15000 });
  const version = /version (\d+(?:\.\d+)+)/.exec(r.stdout)?.[1];
  if (!version) return { unavailable: 'could not read the dpkg-divert version' };
  const hasRoot = compareVersions(version, '1.19.2') >= 0;
  if (!paths.isRealRoot && !hasRoot) return { unavailable: `dpkg-divert ${version} has no --root (needs ≥ 1.19.2)` };
  return { program, version, rootArgs: paths.isRealRoot ? [] : ['--root', paths.root], noRename: compareVersions(version, '1.19.1') >= 0 };
}

export function divertPathFor(boardFile: string): string {
  return path.posix.join(path.posix.dirname(boardFile), DIVERT_SUBDIR, path.posix.basename(boardFile));
}

/** Parse /var/lib/dpkg/diversions: triples (file, divert-to, holder; ':' = local). */
export function parseDiversions(text: string): { file: string; divertTo: string; holder: string }[] {
  const lines = text.split('\n');
  const out: { file: string; divertTo: string; holder: string }[] = [];
  for (let i = 0; i + 2 < lines.length; i += 3) {
    const file = lines[i];
    const divertTo = lines[i + 1];
    const holder = lines[i + 2];
    if (file && divertTo && holder !== undefined) out.push({ file, divertTo, holder });
  }
  return out;
}

export async function diversionOf(paths: HostPaths, boardFile: string): Promise<{ divertTo: string; holder: string } | undefined> {
  const text = await readTextMaybe(paths.toHost('/var/lib/dpkg/diversions'));
  const hit = text ? parseDiversions(text).find((d) => d.file === boardFile) : undefined;
  return hit ? { divertTo: hit.divertTo, holder: hit.holder } : undefined;
}

/** `dpkg-divert --local --no-rename --divert <subdir path> --add <file>` (idempotent: "Leaving …" exits 0). */
export async function addDiversion(paths: HostPaths, tool: DivertTool, boardFile: string, divertTo: string): Promise<void> {
  await run(tool.program, [...tool.rootArgs, '--local', ...(tool.noRename ? ['--no-rename'] : []), '--divert', divertTo, '--add', boardFile], {
    timeoutMs: 30000,
  });
  await syncDpkgAdmin(paths);
}

export async function removeDiversion(paths: HostPaths, tool: DivertTool, boardFile: string): Promise<void> {
  await run(tool.program, [...tool.rootArgs, ...(tool.noRename ? ['--no-rename'] : []), '--remove', boardFile], { timeoutMs: 30000 });
  await syncDpkgAdmin(paths);
}

/**
 * dpkg-divert (1.21) fsyncs diversions-new but not the directory after renaming it over
 * `diversions` (seen in test/integration/plugin/power-cut.test.ts): after a power cut the
 * diversion change could be lost while the swapped library and our records survive. Make the
 * rename durable before the swap goes on.
 */
async function syncDpkgAdmin(paths: HostPaths): Promise<void> {
  await fsyncDir(paths.toHost('/var/lib/dpkg'));
}

/** Package owning `boardFile` and its version, or null (not owned, no dpkg). */
export async function owningPackage(paths: HostPaths, boardFile: string): Promise<{ name: string; version: string } | null> {
  const admin = paths.toHost('/var/lib/dpkg');
  if (!(await exists(path.join(admin, 'status')))) return null;
  const query = await which('dpkg-query');
  if (!query) return null;
  const s = await run(query, [`--admindir=${admin}`, '-S', boardFile], { reject: false, timeoutMs: 30000 });
  if (s.exitCode !== 0) return null;
  const line = s.stdout.split('\n').find((l) => !l.startsWith('diversion ') && l.endsWith(`: ${boardFile}`));
  const name = line?.slice(0, line.length - boardFile.length - 2).split(',')[0]?.trim();
  if (!name) return null;
  return { name, version: (await packageVersion(paths, name)) ?? '' };
}

export async function packageVersion(paths: HostPaths, name: string): Promise<string | undefined> {
  const query = await which('dpkg-query');
  if (!query) return undefined;
  const r = await run(query, [`--admindir=${paths.toHost('/var/lib/dpkg')}`, '-W', '-f=${Version}', name], { reject: false, timeoutMs: 30000 });
  return r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/**
 * md5 of `boardFile` as its package shipped it, from dpkg's `info/<package>[:<arch>].md5sums`
 * (lines `<md5>  <path without leading slash>`, deb-md5sums(5)), or undefined. Root-owned
 * evidence of what the original bytes were, independent of any record.
 */
export async function packagedMd5(paths: HostPaths, pkg: string, boardFile: string): Promise<string | undefined> {
  if (!/^[a-z0-9][a-z0-9+.-]*$/.test(pkg)) return undefined;
  const info = paths.toHost('/var/lib/dpkg/info');
  const want = boardFile.replace(/^\/+/, '');
  for (const name of (await listDir(info)).filter((n) => n === `${pkg}.md5sums` || (n.startsWith(`${pkg}:`) && n.endsWith('.md5sums')))) {
    const text = await readTextMaybe(path.join(info, name));
    for (const line of text?.split('\n') ?? []) {
      const m = /^([0-9a-f]{32}) {2}(.+)$/.exec(line);
      if (m?.[2] === want) return m[1];
    }
  }
  return undefined;
}

import path from 'node:path';
import { sha256 } from '../platform/fs.js';
import { loadCheck } from '../platform/library.js';
import { checkLibrary } from './checks.js';
import { hostMachine, machineName, parseElf } from './elf.js';
import { readLibrary } from './library-file.js';
import { linkTarget, type SystemLibrary } from './resolve.js';

export interface VerifyExpectation {
  readonly sha256: string;
  /** Check creators/exports too (a custom build); the stock TRT 7.1 library lacks BatchTile. */
  readonly requireCreators: boolean;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly problems: readonly string[];
  /** 'ran' | why it was skipped */
  readonly loadCheck: string;
}

/**
 * Verify the library at its system path after a swap or restore: hash, link chain
 * (`libnvinfer_plugin.so.<M>` → the file), SONAME, creators, and a dlopen in a child
 * process when the library's machine is the host's (an aarch64 library can only be load-
 * checked on the board: docs/hardware-validation.md).
 */
export async function verifyInstalled(lib: SystemLibrary, exp: VerifyExpectation): Promise<VerifyResult> {
  const problems: string[] = [];
  let bytes: Buffer;
  try {
    bytes = (await readLibrary(lib)).bytes;
  } catch (err) {
    return { ok: false, problems: [`cannot read ${lib.target}: ${err instanceof Error ? err.message : String(err)}`], loadCheck: 'skipped: unreadable' };
  }
  const got = sha256(bytes);
  if (got !== exp.sha256) problems.push(`sha256 of ${lib.target} is ${got.slice(0, 12)}…, expected ${exp.sha256.slice(0, 12)}…`);
  const link = await linkTarget(lib);
  if (link !== path.posix.basename(lib.target)) {
    problems.push(`${lib.linkName} points to ${link ?? '(nothing)'}, expected ${path.posix.basename(lib.target)}`);
  }
  let machine: number | undefined;
  try {
    const elf = parseElf(bytes);
    machine = elf.machine;
    const check = checkLibrary(bytes, { machine: elf.machine, soname: lib.linkName });
    const relevant = exp.requireCreators ? check.problems : check.problems.filter((p) => !p.startsWith('missing '));
    problems.push(...relevant);
  } catch (err) {
    problems.push(`not an ELF file: ${err instanceof Error ? err.message : String(err)}`);
  }
  let load = 'skipped';
  if (machine !== undefined && machine === hostMachine()) {
    const r = await loadCheck(lib.hostTarget);
    load = 'ran';
    if (!r.ok) problems.push(`load check failed: ${r.message}`);
  } else if (machine !== undefined) {
    load = `skipped: library is ${machineName(machine)}, host is ${process.arch}`;
  }
  return { ok: problems.length === 0, problems, loadCheck: load };
}

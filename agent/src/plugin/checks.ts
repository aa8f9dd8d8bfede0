import { ET_DYN, ElfError, containsCString, machineName, parseElf, type ElfInfo } from './elf.js';

/**
 * Static checks of a plugin library (pure): what a candidate must satisfy before it may
 * replace the system file, and what the installed file must satisfy afterwards
 * (docs/reference/library-swap.md "Load check": ELF type, machine, SONAME, expected exports).
 */

/**
 * Creator names YOLOv3 (and SSD/RetinaNet) from TLT need (docs/reference/tensorrt-oss-plugin.md "Why YOLOv3 needs it" and "Known failures":
 * "getPluginCreator could not find plugin BatchTilePlugin_TRT version 1").
 */
export const REQUIRED_CREATORS = ['BatchTilePlugin_TRT', 'BatchedNMS_TRT', 'ResizeNearest_TRT'] as const;
/** The entry point a process calls to register the creators (docs/reference/tensorrt-oss-plugin.md "Known failures": initLibNvInferPlugins). */
export const REQUIRED_SYMBOLS = ['initLibNvInferPlugins'] as const;

export interface CandidateCheck {
  readonly problems: readonly string[];
  readonly elf: ElfInfo | undefined;
  readonly missingCreators: readonly string[];
  readonly missingSymbols: readonly string[];
}

/** SONAME major of a plugin SONAME: `libnvinfer_plugin.so.7` → `7`. */
export function sonameMajor(soname: string | null): string | undefined {
  return soname ? /\.so\.(\d+)/.exec(soname)?.[1] : undefined;
}

/**
 * Check `bytes` against the system library (`reference`): ELF shared object, same machine,
 * same SONAME (release/7.0 builds have SONAME …so.7.0.0 ≠ …so.7, docs/reference/tensorrt-oss-plugin.md "Known failures"), creators present.
 */
export function checkLibrary(bytes: Uint8Array, reference: { machine: number; soname: string | null }): CandidateCheck {
  let elf: ElfInfo;
  try {
    elf = parseElf(bytes);
  } catch (err) {
    const why = err instanceof ElfError ? err.message : String(err);
    return { problems: [`not an ELF shared library: ${why}`], elf: undefined, missingCreators: [], missingSymbols: [] };
  }
  const problems: string[] = [];
  if (elf.type !== ET_DYN) problems.push(`ELF type ${elf.type} is not a shared object (ET_DYN)`);
  if (elf.machine !== reference.machine) {
    problems.push(`built for ${machineName(elf.machine)}, but the system library is ${machineName(reference.machine)}`);
  }
  const want = reference.soname;
  if (want && elf.soname !== want) {
    problems.push(
      `SONAME is ${elf.soname ?? '(none)'}, expected ${want}` +
        (sonameMajor(elf.soname) !== sonameMajor(want) ? ' (SONAME major differs)' : ''),
    );
  }
  const missingCreators = REQUIRED_CREATORS.filter((c) => !containsCString(bytes, c));
  const missingSymbols = REQUIRED_SYMBOLS.filter((s) => !elf.definedSymbols.has(s));
  if (missingCreators.length > 0) problems.push(`missing plugin creators: ${missingCreators.join(', ')}`);
  if (missingSymbols.length > 0) problems.push(`missing exported symbols: ${missingSymbols.join(', ')}`);
  return { problems, elf, missingCreators, missingSymbols };
}

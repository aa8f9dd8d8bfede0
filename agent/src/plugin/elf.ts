/**
 * Minimal ELF reader (pure, on a Buffer): header, SONAME, NEEDED, defined dynamic symbols and
 * symbol version needs. Parsing in TypeScript instead of calling readelf makes the checks work
 * across architectures (an aarch64 library checked on x86 CI). Layout: System V gABI, ELF-64/32
 * object file format (e_ident, section headers, .dynamic, .dynsym); version needs: the LSB
 * Core specification's symbol versioning (.gnu.version_r, SHT_GNU_verneed, Elf*_Verneed and
 * Elf*_Vernaux, https://refspecs.linuxfoundation.org/LSB_5.0.0/LSB-Core-generic/LSB-Core-generic/symversion.html).
 */
export interface ElfInfo {
  readonly bits: 32 | 64;
  readonly littleEndian: boolean;
  /** e_type: 3 = ET_DYN (shared object). */
  readonly type: number;
  /** e_machine: 62 = x86-64, 183 = AArch64. */
  readonly machine: number;
  readonly soname: string | null;
  readonly needed: readonly string[];
  /** Names of defined (not undefined) dynamic symbols. */
  readonly definedSymbols: ReadonlySet<string>;
  /**
   * Symbol versions needed from each shared library (.gnu.version_r), e.g. libc.so.6 →
   * GLIBC_2.17. Empty for a file that needs none; null when the file has no section headers
   * to read them from (a stripped-headers binary: its needs are unknown, not absent).
   */
  readonly versionNeeds: readonly VersionNeed[] | null;
}

export interface VersionNeed {
  readonly file: string;
  readonly versions: readonly string[];
}

export const ET_DYN = 3;
const SHT_DYNAMIC = 6;
const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const DT_NEEDED = 1;
const DT_SONAME = 14;

const MACHINE_NAMES: Readonly<Record<number, string>> = { 3: 'x86', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V' };

export function machineName(machine: number): string {
  return MACHINE_NAMES[machine] ?? `machine ${machine}`;
}

/** e_machine of the running Node (to decide whether a load check can run here). */
export function hostMachine(arch: string = process.arch): number | undefined {
  return ({ x64: 62, arm64: 183, arm: 40, ia32: 3, riscv64: 243 } as Record<string, number>)[arch];
}

export class ElfError extends Error {}

export function isElf(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
}

export function parseElf(input: Uint8Array): ElfInfo {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (!isElf(buf)) throw new ElfError('not an ELF file (bad magic)');
  if (buf.length < 52) throw new ElfError('truncated ELF header');
  const cls = buf[4];
  const data = buf[5];
  if (cls !== 1 && cls !== 2) throw new ElfError(`unknown ELF class ${String(cls)}`);
  if (data !== 1 && data !== 2) throw new ElfError(`unknown ELF data encoding ${String(data)}`);
  const is64 = cls === 2;
  const le = data === 1;
  const u16 = (o: number): number => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const addr = (o: number): number => {
    if (!is64) return u32(o);
    const v = le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError('offset out of range');
    return Number(v);
  };
  const safe = <T>(f: () => T, what: string): T => {
    try {
      return f();
    } catch (err) {
      if (err instanceof ElfError) throw err;
      throw new ElfError(`truncated or corrupt ELF (${what})`);
    }
  };
  const type = u16(16);
  const machine = u16(18);
  const shoff = safe(() => addr(is64 ? 0x28 : 0x20), 'e_shoff');
  const shentsize = u16(is64 ? 0x3a : 0x2e);
  const shnum = u16(is64 ? 0x3c : 0x30);

  interface Section {
    type: number;
    offset: number;
    size: number;
    link: number;
    info: number;
    entsize: number;
  }
  const sections: Section[] = [];
  if (shoff > 0 && shnum > 0) {
    if (shoff + shnum * shentsize > buf.length) throw new ElfError('truncated ELF (section headers past end of file)');
    for (let i = 0; i < shnum; i++) {
      const b = shoff + i * shentsize;
      sections.push(
        safe(
          () => ({
            type: u32(b + 4),
            offset: addr(b + (is64 ? 24 : 16)),
            size: addr(b + (is64 ? 32 : 20)),
            link: u32(b + (is64 ? 40 : 24)),
            info: u32(b + (is64 ? 44 : 28)),
            entsize: addr(b + (is64 ? 56 : 36)),
          }),
          'section header',
        ),
      );
    }
  }
  const strAt = (strtab: Section | undefined, off: number): string => {
    if (!strtab) return '';
    const start = strtab.offset + off;
    if (start >= buf.length || off >= strtab.size) return '';
    const end = buf.indexOf(0, start);
    return buf.toString('latin1', start, end < 0 ? Math.min(buf.length, strtab.offset + strtab.size) : end);
  };

  let soname: string | null = null;
  const needed: string[] = [];
  const dyn = sections.find((s) => s.type === SHT_DYNAMIC);
  if (dyn) {
    const strtab = sections[dyn.link];
    const ent = is64 ? 16 : 8;
    const end = Math.min(buf.length, dyn.offset + dyn.size);
    for (let o = dyn.offset; o + ent <= end; o += ent) {
      const tag = is64 ? safe(() => addr(o), 'dynamic') : u32(o);
      if (tag === 0) break;
      const val = is64 ? safe(() => addr(o + 8), 'dynamic') : u32(o + 4);
      if (tag === DT_SONAME) soname = strAt(strtab, val);
      else if (tag === DT_NEEDED) needed.push(strAt(strtab, val));
    }
  }
  const definedSymbols = new Set<string>();
  const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
  if (dynsym) {
    const strtab = sections[dynsym.link];
    const ent = dynsym.entsize || (is64 ? 24 : 16);
    const end = Math.min(buf.length, dynsym.offset + dynsym.size);
    for (let o = dynsym.offset; o + ent <= end; o += ent) {
      const name = u32(o);
      const shndx = u16(o + (is64 ? 6 : 14));
      if (name !== 0 && shndx !== 0) definedSymbols.add(strAt(strtab, name));
    }
  }
  // Elf32 and Elf64 Verneed/Vernaux are the same size: all fields are Half or Word.
  let versionNeeds: VersionNeed[] | null = null;
  if (sections.length > 0) {
    versionNeeds = [];
    const verneed = sections.find((s) => s.type === SHT_GNU_VERNEED);
    if (verneed) {
      const strtab = sections[verneed.link];
      const end = Math.min(buf.length, verneed.offset + verneed.size);
      let at = verneed.offset;
      // sh_info is the number of Verneed entries; vn_next chains them.
      for (let i = 0; i < verneed.info && at + 16 <= end; i++) {
        const count = u16(at + 2);
        const file = strAt(strtab, u32(at + 4));
        const versions: string[] = [];
        let aux = at + u32(at + 8);
        for (let j = 0; j < count && aux + 16 <= end; j++) {
          versions.push(strAt(strtab, u32(aux + 8)));
          const next = u32(aux + 12);
          if (next === 0) break;
          aux += next;
        }
        versionNeeds.push({ file, versions });
        const next = u32(at + 12);
        if (next === 0) break;
        at += next;
      }
    }
  }
  return { bits: is64 ? 64 : 32, littleEndian: le, type, machine, soname, needed, definedSymbols, versionNeeds };
}

/**
 * The highest GLIBC_x.y[.z] version a file needs from libc.so.6 (or any glibc library: libm,
 * libpthread and libdl carry GLIBC_ versions too), or null when it needs none. glibc's
 * dynamic loader refuses a file that needs a version the installed glibc lacks.
 */
export function highestGlibc(info: Pick<ElfInfo, 'versionNeeds'>): string | null {
  let best: string | null = null;
  for (const need of info.versionNeeds ?? []) {
    for (const v of need.versions) {
      const m = /^GLIBC_(\d+(?:\.\d+)*)$/.exec(v);
      if (m?.[1] && (best === null || compareVersions(m[1], best) > 0)) best = m[1];
    }
  }
  return best;
}

/** Numeric dotted-version comparison ("2.27" < "2.28", "2.3.4" < "2.17"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * Does the file contain `text` as a NUL-terminated string? TensorRT registers plugin
 * creators by name (`"BatchTilePlugin_TRT"` in .rodata of the real OSS build), so the
 * names are visible as strings even though the creator classes are not exported symbols.
 */
export function containsCString(buf: Uint8Array, text: string): boolean {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).includes(Buffer.from(text + '\0', 'latin1'));
}

import { createReadStream } from 'node:fs';
import type * as Tar from 'tar';
import type { ReadEntry, Unpack } from 'tar';

// tar loads with the first package (idle footprint, docs/benchmarks.md).
const loadTar = (): Promise<typeof Tar> => import('tar');

/**
 * tar through the platform seam (docs/reference/design-rules.md "Layout and imports"): the `tar` package writes files, so only this
 * file imports it. Callers pass a `check` that sees every member before it is written and
 * can veto it; after a veto nothing more is written and extractTar throws TarVeto (the
 * caller removes the target dir).
 */
export interface TarMember {
  readonly path: string;
  readonly type: string;
  readonly size: number;
  readonly linkpath: string | undefined;
}

export interface ExtractOptions {
  /** Return a reason to refuse the member (and abort), or undefined to extract it. */
  readonly check: (member: TarMember) => string | undefined;
  /** Abort when decompressed/compressed exceeds this (gzip bombs). */
  readonly maxDecompressionRatio?: number;
}

export class TarVeto extends Error {
  constructor(
    readonly member: string,
    readonly reason: string,
  ) {
    super(`${member}: ${reason}`);
    this.name = 'TarVeto';
  }
}

/** Extract `file` (tar or tar.gz, auto-detected) into the existing directory `cwd`. */
export async function extractTar(file: string, cwd: string, options: ExtractOptions): Promise<void> {
  let veto: TarVeto | undefined;
  const { Unpack: UnpackClass } = await loadTar();
  const unpack: Unpack = new UnpackClass({
    cwd,
    strict: true,
    // Never apply owners from the archive (special mode bits: see the filter).
    preserveOwner: false,
    maxDecompressionRatio: options.maxDecompressionRatio ?? 1000,
    filter: (_p: string, entry: unknown): boolean => {
      if (veto) return false;
      const e = entry as ReadEntry;
      const reason = options.check({ path: e.path, type: e.type, size: e.size, linkpath: e.linkpath });
      if (reason === undefined) {
        // Unpack creates files and directories with `entry.mode & 0o7777` (node-tar
        // src/unpack.ts [FILE]/[DIRECTORY]), setuid/setgid/sticky included, and preserveOwner
        // does not touch modes: strip the special bits here, before the entry is written.
        if (typeof e.mode === 'number') e.mode &= 0o777;
        return true;
      }
      // Skip this and every later member; the archive is drained (bounded by the
      // decompression ratio) so that every write already started has finished when we return.
      veto = new TarVeto(e.path, reason);
      return false;
    },
  });
  // Resolve on 'close': the Unpack emits it only after its pending file writes are done.
  await new Promise<void>((resolve, reject) => {
    const src = createReadStream(file);
    src.on('error', reject);
    unpack.on('error', reject);
    unpack.on('close', resolve);
    src.pipe(unpack);
  }).catch((err: unknown) => {
    throw veto ?? err;
  });
  if (veto) throw veto;
}

/** Create a reproducible archive (portable headers, fixed mtime) of `entries` relative to `cwd`. */
export async function createTar(file: string, cwd: string, entries: readonly string[], gzip: boolean): Promise<void> {
  const { create } = await loadTar();
  await create({ file, cwd, gzip, portable: true, mtime: new Date(0), noDirRecurse: false }, [...entries]);
}

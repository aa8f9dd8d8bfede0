import { listDir, readBytesMaybe, readTextMaybe } from '../platform/fs.js';
import type { HostPaths } from '../platform/paths.js';
import { resolveInRoot } from '../platform/resolve-in-root.js';

/**
 * Reads board paths under the host root for detection. Every source is optional: a missing
 * file is `undefined`; an unreadable one (EACCES, EISDIR …) is `undefined` plus a warning, so
 * one bad file never stops detection. Symlinks resolve inside the root (resolve-in-root.ts).
 */
export class HostReader {
  readonly warnings: string[] = [];

  constructor(readonly paths: HostPaths) {}

  warn(message: string): void {
    this.warnings.push(message);
  }

  async text(boardPath: string): Promise<string | undefined> {
    return this.guard(boardPath, async (host) => readTextMaybe(host));
  }

  async bytes(boardPath: string): Promise<Buffer | undefined> {
    return this.guard(boardPath, async (host) => readBytesMaybe(host));
  }

  async list(boardDir: string): Promise<string[]> {
    return (await this.guard(boardDir, async (host) => (await listDir(host)).sort())) ?? [];
  }

  /** Board-absolute real path behind a (possibly symlinked) board path. */
  async real(boardPath: string): Promise<string | undefined> {
    try {
      return await resolveInRoot(this.paths, boardPath);
    } catch (err) {
      this.warn(`${boardPath}: could not resolve (${errCode(err)})`);
      return undefined;
    }
  }

  private async guard<T>(boardPath: string, read: (host: string) => Promise<T | undefined>): Promise<T | undefined> {
    try {
      const real = this.paths.isRealRoot ? boardPath : await resolveInRoot(this.paths, boardPath);
      return real === undefined ? undefined : await read(this.paths.toHost(real));
    } catch (err) {
      this.warn(`${boardPath}: could not read (${errCode(err)})`);
      return undefined;
    }
  }
}

function errCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  return e?.code ?? (e instanceof Error ? e.message : String(err));
}

import { promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * Every host path is built from one root (default `/`, `--root DIR`, `hostRoot:` in config)
 * so that tests and offline inspection can point the agent at a mirror tree
 * (test/fixtures/boards/<id>/). Paths reported to users stay board-absolute ("as seen on
 * the board"); `toHost` adds the root prefix, `fromHost` strips it.
 *
 * The root is hard: `..` never climbs above it (`toHost('/../../etc/x')` is `<root>/etc/x`,
 * as `/..` is `/` on the board), and `resolve`/`resolveForWrite` follow symlinks the way
 * openat2(2) RESOLVE_IN_ROOT does: an absolute link target starts again at the root, `..`
 * stops at it. Node has no openat2, so each component is checked in turn.
 */
export class HostPaths {
  readonly root: string;

  constructor(root = '/') {
    this.root = path.resolve(root);
  }

  /** `/etc/nv_tegra_release` → `<root>/etc/nv_tegra_release`; `..` is clamped at the root. */
  toHost(boardPath: string): string {
    if (!path.isAbsolute(boardPath)) throw new Error(`board path must be absolute: ${boardPath}`);
    // posix.normalize of an absolute path drops `..` above `/`: the lexical half of the hard root.
    const board = path.posix.normalize(boardPath);
    return this.root === '/' ? board : path.join(this.root, board);
  }

  /** Inverse of toHost; a path outside the root is returned unchanged. */
  fromHost(hostPath: string): string {
    if (this.root === '/') return hostPath;
    const rel = path.relative(this.root, hostPath);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return hostPath;
    return '/' + rel.split(path.sep).join('/');
  }

  get isRealRoot(): boolean {
    return this.root === '/';
  }

  /**
   * The board-absolute real path behind `boardPath` with every symlink resolved inside the
   * root, or undefined when it does not exist (dangling link, loop, missing file). With a
   * mirror root an absolute target such as `/usr/local/cuda -> /etc/alternatives/cuda`
   * means `<root>/etc/alternatives/cuda`, never the machine's own /etc.
   */
  async resolve(boardPath: string, maxLinks = 40): Promise<string | undefined> {
    const r = await this.walk(boardPath, maxLinks);
    return r && r.missing.length === 0 ? r.resolved : undefined;
  }

  /**
   * Where a write to `boardPath` lands: the existing part resolved inside the root (no
   * symlink in it leaves the root), the components that do not exist yet appended as they
   * are. Throws on a symlink loop. The caller still opens the last component without
   * following a link (O_NOFOLLOW) and checks who may write the directories on the way.
   */
  async resolveForWrite(boardPath: string, maxLinks = 40): Promise<string> {
    const r = await this.walk(boardPath, maxLinks);
    if (!r) throw Object.assign(new Error(`ELOOP: too many symbolic links under the root, resolving '${boardPath}'`), { code: 'ELOOP' });
    return this.toHost(path.posix.join(r.resolved, ...r.missing));
  }

  private async walk(boardPath: string, maxLinks: number): Promise<{ resolved: string; missing: string[] } | undefined> {
    if (!path.isAbsolute(boardPath)) throw new Error(`board path must be absolute: ${boardPath}`);
    let pending = boardPath.split('/').filter(Boolean);
    const done: string[] = [];
    const missing: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const [part, ...rest] = pending;
      pending = rest;
      if (part === undefined || part === '.') continue;
      if (missing.length > 0) {
        // Below a missing component nothing exists: the rest is lexical (`..` still clamped).
        if (part === '..') missing.pop();
        else missing.push(part);
        continue;
      }
      if (part === '..') {
        done.pop();
        continue;
      }
      const host = this.toHost('/' + [...done, part].join('/'));
      let target: string | undefined;
      try {
        const st = await fsp.lstat(host);
        if (st.isSymbolicLink()) target = await fsp.readlink(host);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
        missing.push(part);
        continue;
      }
      if (target === undefined) {
        done.push(part);
        continue;
      }
      if (++links > maxLinks) return undefined;
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter(Boolean), ...pending];
    }
    return { resolved: '/' + done.join('/'), missing };
  }
}

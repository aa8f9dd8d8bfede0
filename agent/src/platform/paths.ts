import path from 'node:path';
import os from 'node:os';

/**
 * Every host path is built from one root (default `/`, `--root DIR`, `hostRoot:` in config)
 * so that tests and offline inspection can point the agent at a mirror tree
 * (test/fixtures/boards/<id>/). Paths reported to users stay board-absolute ("as seen on
 * the board"); `toHost` adds the root prefix, `fromHost` strips it.
 */
export class HostPaths {
  readonly root: string;

  constructor(root = '/') {
    this.root = path.resolve(root);
  }

  /** `/etc/nv_tegra_release` → `<root>/etc/nv_tegra_release` */
  toHost(boardPath: string): string {
    if (!path.isAbsolute(boardPath)) throw new Error(`board path must be absolute: ${boardPath}`);
    return this.root === '/' ? path.normalize(boardPath) : path.join(this.root, boardPath);
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
}

/**
 * `~` and `~/…` → the home directory, as a shell would have done (it does not for
 * `--config=~/x` or a quoted "~/x"). `~user` is left alone. HOME first, like the shell.
 */
export function expandHome(p: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (p !== '~' && !p.startsWith('~/')) return p;
  return path.join(env.HOME || os.homedir(), p.slice(1));
}

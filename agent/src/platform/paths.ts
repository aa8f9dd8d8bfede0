import path from 'node:path';

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

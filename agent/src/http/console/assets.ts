import path from 'node:path';
import { createHash } from 'node:crypto';
import { AgentError } from '../../core/errors.js';
import { readBytesMaybe } from '../../platform/fs.js';

/**
 * The console's static files, read from the built directory on first use and kept in memory
 * (a few tens of KB; an agent nobody browses never reads them). Only flat names with a known
 * extension are served: no directory traversal, no listing.
 */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
const NAME = /^[a-z0-9][a-z0-9._-]*$/;

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

export class ConsoleAssets {
  private readonly cache = new Map<string, Asset | null>();
  constructor(private readonly dir: string) {}

  /** undefined: no such asset. Throws CONSOLE_NOT_BUILT when the page itself is missing. */
  async get(name: string): Promise<Asset | undefined> {
    const type = TYPES[path.extname(name)];
    if (!NAME.test(name) || name.includes('..') || !type) return undefined;
    let a = this.cache.get(name);
    if (a === undefined) {
      const body = await readBytesMaybe(path.join(this.dir, name));
      a = body ? { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` } : null;
      this.cache.set(name, a);
    }
    if (!a && name === 'index.html') {
      throw new AgentError('CONSOLE_NOT_BUILT', `The board console is not built: ${path.join(this.dir, 'index.html')} is missing.`, {
        hint: 'Run `npm run build` in the agent checkout (the npm package ships the built console).',
      });
    }
    return a ?? undefined;
  }
}

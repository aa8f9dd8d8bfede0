import path from 'node:path';
import type { Component } from '../core/lifecycle.js';
import type { Logger } from '../core/log.js';
import { AgentError, toAgentError } from '../core/errors.js';
import { systemClock, type Clock } from '../platform/clock.js';
import { listDir, mkdirp, readTextMaybe, removePath, sha256File, statMaybe, writeJsonAtomic } from '../platform/fs.js';
import { renamePath } from '../platform/fs-stream.js';
import { addPackage, cleanStaleTemp, type StoredPackage } from './store.js';

/**
 * Daemon component: packages dropped into `state/inbox/` are taken in like `models add`
 * (issue #4 §1). A sidecar `<pkg>.sha256` (first hex word, sha256sum style) must match when
 * present. A file is taken only once its size and mtime did not change for one poll (a
 * writer still copying it is left alone). Rejects go to `inbox/rejected/` with
 * `<pkg>.reason.json` {code, message, hint, at}.
 */
export interface InboxDeps {
  readonly stateDir: string;
  readonly pollSec: number;
  readonly maxBytes: number;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Called after a package was stored (e.g. to tell the rollout/inference features). */
  readonly onStored?: (pkg: StoredPackage) => void;
  /**
   * When set, a dropped package is not stored here but handed to the local deployment flow
   * (intake → convert → warm-up → activate → probation, issue #6 §4), after its sidecar
   * sha256 was checked; the file is moved to `inbox/.deploy/` first (invisible to the scan)
   * and the flow's intake consumes it.
   */
  readonly deploy?: (file: string) => Promise<unknown>;
}

export const DEPLOY_DIR = '.deploy';

export const REJECTED_DIR = 'rejected';

export class Inbox implements Component {
  readonly name = 'model-inbox';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly seen = new Map<string, string>();
  private readonly clock: Clock;

  constructor(private readonly deps: InboxDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  get dir(): string {
    return path.join(this.deps.stateDir, 'inbox');
  }

  async start(): Promise<void> {
    await mkdirp(path.join(this.dir, REJECTED_DIR), 0o750);
    const cleaned = await cleanStaleTemp(this.deps.stateDir);
    if (cleaned) this.deps.log.warn({ cleaned }, 'removed leftovers of interrupted package intakes');
    this.timer = this.clock.setInterval(() => void this.poll(), this.deps.pollSec * 1000);
    await this.poll();
  }

  async stop(): Promise<void> {
    if (this.timer) this.clock.clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass over the inbox; overlapping calls share the pass in progress. */
  poll(): Promise<void> {
    this.running ??= this.scan()
      .catch((err: unknown) => this.deps.log.error({ err: toAgentError(err).toJSON() }, 'inbox scan failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async scan(): Promise<void> {
    const names = (await listDir(this.dir)).filter((n) => !n.startsWith('.') && n !== REJECTED_DIR && !n.endsWith('.sha256') && !n.endsWith('.reason.json'));
    for (const name of names) {
      const file = path.join(this.dir, name);
      const st = await statMaybe(file);
      if (!st?.isFile()) continue;
      const stamp = `${st.size}:${st.mtimeMs}`;
      if (this.seen.get(name) !== stamp) {
        this.seen.set(name, stamp);
        continue;
      }
      this.seen.delete(name);
      await this.take(name, file);
    }
  }

  private async take(name: string, file: string): Promise<void> {
    const sidecar = `${file}.sha256`;
    const expected = (await readTextMaybe(sidecar))?.trim().split(/\s+/)[0];
    const log = this.deps.log.child({ package: name });
    try {
      if (expected !== undefined && !/^[0-9a-fA-F]{64}$/.test(expected)) {
        throw new AgentError('PACKAGE_SHA256_MISMATCH', `${name}.sha256 does not hold a sha256 (64 hex digits).`, { hint: 'Write the sidecar with `sha256sum PKG > PKG.sha256`.' });
      }
      if (this.deps.deploy) {
        if (expected !== undefined) {
          const actual = await sha256File(file);
          if (actual.toLowerCase() !== expected.toLowerCase()) {
            throw new AgentError('PACKAGE_SHA256_MISMATCH', `${name} has sha256 ${actual}, its sidecar says ${expected}.`, {
              hint: 'Copy the package again (it may be truncated) or fix the .sha256 file.',
            });
          }
        }
        const staged = path.join(this.dir, DEPLOY_DIR, name);
        await mkdirp(path.dirname(staged), 0o750);
        await renamePath(file, staged);
        await removePath(sidecar);
        log.info({ file: staged }, 'package from inbox handed to the local deployment flow');
        await this.deps.deploy(staged);
        return;
      }
      const { pkg, added } = await addPackage({
        stateDir: this.deps.stateDir,
        file,
        maxBytes: this.deps.maxBytes,
        now: () => new Date(this.clock.now()),
        ...(expected ? { expectedSha256: expected } : {}),
      });
      await removePath(file);
      await removePath(sidecar);
      log.info({ name: pkg.name, version: pkg.version, sha256: pkg.sha256, added }, added ? 'package taken in from inbox' : 'package from inbox was already stored');
      this.deps.onStored?.(pkg);
    } catch (err) {
      const e = toAgentError(err);
      log.warn({ err: e.toJSON() }, 'package from inbox rejected');
      const rejected = path.join(this.dir, REJECTED_DIR);
      await renamePath(file, path.join(rejected, name)).catch(() => removePath(file));
      if (expected !== undefined) await renamePath(sidecar, path.join(rejected, `${name}.sha256`)).catch(() => removePath(sidecar));
      await writeJsonAtomic(path.join(rejected, `${name}.reason.json`), { ...e.toJSON(), at: new Date(this.clock.now()).toISOString() });
    }
  }
}

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
 *
 * With `deploy` (the daemon), dropped packages form a queue in drop order (mtime, then name):
 * one is handed to the local deployment flow, and the next only once that deployment has ended,
 * so packages dropped together never replace each other (issue #14 "Inbox drops"). Every package
 * ends in exactly one place: the model store (its intake consumed it), or `inbox/rejected/` with
 * a reason file (a bad sidecar, a failed intake, or a deployment that ended before its intake:
 * superseded by a newer deployment, canceled). None stays in `inbox/.deploy/`: a leftover found
 * at start belongs to the deployment the executor resumes, or is moved to `rejected/` too.
 */
export interface LocalDeploymentEnd {
  readonly deploymentId: string;
  readonly state: string;
  readonly error?: { readonly code: string; readonly message: string };
}

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
   * and the flow's intake consumes it. Resolves when that deployment has ENDED.
   */
  readonly deploy?: (file: string) => Promise<LocalDeploymentEnd>;
  /** The end of the deployment that already works on a staged file (resumed after a restart), if any. */
  readonly deploymentOf?: (file: string) => Promise<LocalDeploymentEnd> | undefined;
}

export const DEPLOY_DIR = '.deploy';

export const REJECTED_DIR = 'rejected';

export class Inbox implements Component {
  readonly name = 'model-inbox';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly seen = new Map<string, string>();
  private readonly clock: Clock;
  /** Aborted by stop(): a scan waiting for a deployment's end lets go (the deployment pauses and resumes). */
  private readonly stopping = new AbortController();

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
    if (this.deps.deploy) {
      // Not awaited: a deployment that resumed with a staged package may run for long; until it
      // ends, polls share this pass, so newer drops wait their turn.
      this.running = this.settleLeftovers()
        .then(() => this.scan())
        .catch((err: unknown) => this.deps.log.error({ err: toAgentError(err).toJSON() }, 'inbox scan failed'))
        .finally(() => (this.running = undefined));
      return;
    }
    await this.poll();
  }

  async stop(): Promise<void> {
    if (this.timer) this.clock.clearInterval(this.timer);
    this.timer = undefined;
    this.stopping.abort();
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
    const stable: { name: string; file: string; mtimeMs: number }[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      const st = await statMaybe(file);
      if (!st?.isFile()) continue;
      const stamp = `${st.size}:${st.mtimeMs}`;
      if (this.seen.get(name) !== stamp) {
        this.seen.set(name, stamp);
        continue;
      }
      stable.push({ name, file, mtimeMs: st.mtimeMs });
    }
    // Drop order: the queue of packages waiting is worked oldest first.
    stable.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const { name, file } of stable) {
      if (this.stopping.signal.aborted) return;
      this.seen.delete(name);
      await this.take(name, file);
    }
  }

  private async take(name: string, file: string): Promise<void> {
    if (!(await statMaybe(file))) return; // taken away while earlier packages were deployed
    const sidecar = `${file}.sha256`;
    const expected = (await readTextMaybe(sidecar))?.trim().split(/\s+/)[0];
    const log = this.deps.log.child({ package: name });
    let at = file;
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
        at = staged;
        await removePath(sidecar);
        log.info({ file: staged }, 'package from inbox handed to the local deployment flow');
        await this.settle(name, staged, this.deps.deploy(staged));
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
      await this.reject(name, at, { ...e.toJSON() }, expected !== undefined && at === file ? sidecar : undefined);
    }
  }

  /**
   * Wait for the deployment of a staged package to end (or for stop()), then make sure the
   * package is not left in `.deploy/`: the intake hook consumes it (stored, or moved to
   * `rejected/` with its reason); a deployment that ended before its intake leaves it here.
   */
  private async settle(name: string, staged: string, end: Promise<LocalDeploymentEnd>): Promise<void> {
    const stopped = new Promise<undefined>((resolve) => {
      if (this.stopping.signal.aborted) resolve(undefined);
      this.stopping.signal.addEventListener('abort', () => resolve(undefined), { once: true });
    });
    const r = await Promise.race([end, stopped]);
    // Stopping: the deployment pauses with the agent and resumes at the next start (settleLeftovers).
    if (r === undefined) return;
    this.deps.log.child({ package: name }).info({ deploymentId: r.deploymentId, state: r.state }, 'inbox deployment ended');
    if (!(await statMaybe(staged))) return;
    await this.reject(name, staged, {
      code: r.error?.code ?? 'DEPLOYMENT_SUPERSEDED',
      message: `Deployment ${r.deploymentId} of ${name} ended ${r.state} before its intake: ${r.error?.message ?? 'no reason recorded'}. The package was not stored.`,
      hint: 'Drop the package into the inbox again to deploy it.',
      deploymentId: r.deploymentId,
      state: r.state,
    });
  }

  /** Staged packages found at start: wait for the deployment that resumed with them, or reject them. */
  private async settleLeftovers(): Promise<void> {
    const deployDir = path.join(this.dir, DEPLOY_DIR);
    for (const name of await listDir(deployDir)) {
      if (name.startsWith('.')) continue;
      const staged = path.join(deployDir, name);
      if (!(await statMaybe(staged))?.isFile()) continue;
      const owner = this.deps.deploymentOf?.(staged);
      if (owner) {
        this.deps.log.info({ package: name }, 'a deployment of an inbox package resumed after the restart');
        await this.settle(name, staged, owner);
        continue;
      }
      await this.reject(name, staged, {
        code: 'CANCELED',
        message: `${name} was handed to the local deployment flow, but the agent stopped before the deployment took it; it was not deployed.`,
        hint: 'Drop the package into the inbox again to deploy it.',
      });
    }
  }

  private async reject(name: string, from: string, reason: Record<string, unknown>, sidecar?: string): Promise<void> {
    const rejected = path.join(this.dir, REJECTED_DIR);
    await mkdirp(rejected, 0o750);
    await renamePath(from, path.join(rejected, name)).catch(() => removePath(from));
    if (sidecar !== undefined) await renamePath(sidecar, path.join(rejected, `${name}.sha256`)).catch(() => removePath(sidecar));
    await writeJsonAtomic(path.join(rejected, `${name}.reason.json`), { ...reason, at: new Date(this.clock.now()).toISOString() });
    this.deps.log.warn({ package: name, code: reason.code }, 'package from inbox moved to rejected/ with its reason');
  }
}

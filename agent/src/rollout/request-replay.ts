import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { readTextMaybe, writeJsonAtomic } from '../platform/fs.js';
import { renamePath } from '../platform/fs-stream.js';

/**
 * The device's memory of the signed requests it accepted (issue #14 "Replayable requests"):
 * every accepted request's `transaction` is kept until its `expiresAt`, on disk, so the same
 * envelope published again (on its own topic or after an agent restart) is refused with
 * REQUEST_REPLAYED. Entries are pruned once expired: an expired request is refused by its
 * expiry anyway. The record is written (atomically, fsynced) BEFORE the op runs, so a crash
 * after the op cannot make it runnable a second time; a failed write refuses the request.
 */
export const ReplayFileSchema = Type.Object(
  {
    v: Type.Literal(1),
    seen: Type.Array(
      Type.Object(
        {
          transaction: Type.String({ minLength: 1, maxLength: 128 }),
          /** ms since the epoch: the request's own expiresAt. */
          expiresAt: Type.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
type ReplayFile = Static<typeof ReplayFileSchema>;

/** At most this many unexpired requests are remembered; beyond it new requests are refused (BUSY). */
export const REPLAY_CACHE_MAX = 10_000;

export const REPLAY_FILE = 'requests-seen.json';

export interface ReplayGuard {
  /** Record `transaction` as accepted (persisted before it resolves), or throw REQUEST_REPLAYED. */
  admit(transaction: string, expiresAtMs: number, now: number): Promise<void>;
}

export class RequestReplayCache implements ReplayGuard {
  private readonly seen = new Map<string, number>();
  private writes: Promise<void> = Promise.resolve();
  readonly file: string;

  constructor(
    stateDir: string,
    private readonly log: Logger,
    private readonly max = REPLAY_CACHE_MAX,
  ) {
    this.file = path.join(stateDir, REPLAY_FILE);
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * Load the persisted record. A file that is not valid JSON or fails the schema is moved
   * aside (`requests-seen.json.corrupt-<ms>`) with an error in the log and the cache starts
   * empty: requests accepted before it was damaged are then only held back by their expiry
   * (rollout.requestMaxTtlSec at most).
   */
  async load(now: number): Promise<void> {
    const text = await readTextMaybe(this.file);
    if (text === undefined) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!Value.Check(ReplayFileSchema, value)) {
      const aside = `${this.file}.corrupt-${now}`;
      await renamePath(this.file, aside);
      this.log.error({ file: this.file, movedTo: aside }, 'the record of accepted requests is damaged; it was moved aside and starts empty');
      return;
    }
    for (const e of value.seen) if (e.expiresAt > now) this.seen.set(e.transaction, e.expiresAt);
  }

  async admit(transaction: string, expiresAtMs: number, now: number): Promise<void> {
    for (const [id, exp] of this.seen) if (exp <= now) this.seen.delete(id);
    if (this.seen.has(transaction)) {
      throw new AgentError('REQUEST_REPLAYED', `A signed request with transaction "${transaction}" was already accepted by this device; it is not run twice.`, {
        hint: 'Send a new request (jetson-fleet request makes a fresh transaction every time); a captured request cannot be replayed.',
        details: { transaction },
      });
    }
    if (this.seen.size >= this.max) {
      throw new AgentError('BUSY', `This device holds ${this.seen.size} unexpired signed requests, the most it remembers; the request was not run.`, {
        hint: 'Retry once earlier requests have expired, or sign requests with a shorter expiry.',
      });
    }
    // Taken synchronously, so a second copy arriving while this one is written is refused.
    this.seen.set(transaction, expiresAtMs);
    const snapshot: ReplayFile = { v: 1, seen: [...this.seen].map(([t, e]) => ({ transaction: t, expiresAt: e })) };
    const write = this.writes.then(() => writeJsonAtomic(this.file, snapshot, { mode: 0o640 }));
    this.writes = write.catch(() => undefined);
    try {
      await write;
    } catch (err) {
      // Not on disk: refuse rather than run a request an agent restart would accept again.
      this.seen.delete(transaction);
      throw new AgentError('FS_ERROR', `Could not record the request in ${this.file}: ${(err as Error).message}; it was not run.`, {
        hint: 'Check that the state directory is writable and has free space.',
        cause: err,
      });
    }
  }
}

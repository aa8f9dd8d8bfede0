/**
 * A cap on the request-body bytes the server holds at once (issue #14 "stalled 15 MiB bodies add
 * RSS"). fastify buffers a whole body before a route sees it (`parseAs: 'buffer'`), so N clients
 * each trickling a 16 MiB body keep N × 16 MiB (and the chunk list, roughly twice that) alive until
 * inference.requestTimeoutMs cuts them off. Each request reserves its Content-Length (capped at
 * the body limit; a chunked body, whose size is unknown, reserves the full body limit) when its
 * headers arrive, before a byte of body is read, and gives it back when its response closes.
 * A request that does not fit is refused at once (503 BODY_BUDGET_EXHAUSTED, Retry-After).
 * Pure bookkeeping; the server hooks call it.
 */
export class BodyBudget {
  private usedBytes = 0;
  private peakBytes = 0;

  constructor(
    readonly capBytes: number,
    readonly bodyLimitBytes: number,
  ) {}

  get used(): number {
    return this.usedBytes;
  }

  get peak(): number {
    return this.peakBytes;
  }

  /** What a request with these headers reserves: 0 without a body. */
  claimFor(headers: { readonly 'content-length'?: string | undefined; readonly 'transfer-encoding'?: string | undefined }): number {
    const te = headers['transfer-encoding'];
    if (te !== undefined && te !== '' && te.toLowerCase() !== 'identity') return this.bodyLimitBytes;
    const cl = headers['content-length'];
    if (cl === undefined || !/^[0-9]+$/.test(cl)) return 0; // Node's parser refuses a malformed Content-Length itself
    return Math.min(Number(cl), this.bodyLimitBytes);
  }

  /** Reserve `bytes`; returns a release function (idempotent), or undefined when it does not fit. */
  reserve(bytes: number): (() => void) | undefined {
    if (bytes === 0) return () => undefined;
    if (this.usedBytes + bytes > this.capBytes) return undefined;
    this.usedBytes += bytes;
    this.peakBytes = Math.max(this.peakBytes, this.usedBytes);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.usedBytes -= bytes;
    };
  }
}

/** Result of reading a `Range` header against a file of `size` bytes (RFC 9110 §14). */
export type ByteRange =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

/**
 * One range only: `bytes=a-b`, `bytes=a-`, `bytes=-n`. A header we do not understand, or
 * several ranges, is ignored and the whole file is sent — RFC 9110 §14.2 allows a server to
 * ignore Range, and download resumers only ever ask for one open-ended range.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  const first = m[1] === '' ? undefined : Number(m[1]);
  const last = m[2] === '' ? undefined : Number(m[2]);
  if (first === undefined) {
    // Suffix range: the last n bytes; "-0" can never be satisfied (§14.1.3).
    const n = last ?? 0;
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  if (last !== undefined && last < first) return { kind: 'full' }; // invalid: ignore (§14.1.1)
  if (first >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start: first, end: Math.min(last ?? size - 1, size - 1) };
}

/**
 * Does a decrypted prefix look like a serialized protobuf of the expected kind? AES-CTR has
 * no MAC (docs/reference/etlt-format.md "Cipher and key derivation"), so a wrong key yields uniform garbage; walking protobuf fields
 * (descending into a message that runs past the prefix) rejects that with overwhelming
 * probability in milliseconds, instead of a cryptic converter failure minutes later.
 * Heuristic per docs/reference/etlt-format.md "Validate after decrypting" (UNCONFIRMED for UFF).
 */

export type ProtobufKind = 'onnx' | 'uff';

/** Highest field number accepted at any level (onnx.proto ModelProto tops out at 25, `functions`). */
const MAX_FIELD = 32;
/** ONNX ir_version values in use are 1..11; allow growth. */
const ONNX_MAX_IR_VERSION = 32;
/** UFF MetaGraph starts with one of its first fields (version, descriptor_core_version, descriptors, graphs, referenced_data; UNCONFIRMED). */
const UFF_FIRST_FIELD_MAX = 5;
/** Fields that must be well-formed before a prefix counts as a protobuf (unless the message ends sooner). */
const MIN_FIELDS = 6;
const MAX_DEPTH = 8;

interface Walk {
  readonly ok: boolean;
  readonly fields: number;
  /** The walk reached the end of the prefix with the message still going. */
  readonly open: boolean;
}

function readVarint(buf: Uint8Array, pos: number, end: number): { value: bigint; next: number } | undefined {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10 && pos + i < end; i++) {
    const b = buf[pos + i] ?? 0;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value: result, next: pos + i + 1 };
    shift += 7n;
  }
  return undefined;
}

const FAIL: Walk = { ok: false, fields: 0, open: false };

/**
 * Walk the message bytes buf[pos, msgEnd) of which only buf[pos, prefixEnd) are available.
 * `first` constrains the first tag (kind-specific checks).
 */
function walk(buf: Uint8Array, pos: number, prefixEnd: number, msgEnd: number, before: number, depth: number, first?: (field: number, wire: number, buf: Uint8Array, at: number) => boolean): Walk {
  let fields = 0;
  let p = pos;
  const end = Math.min(prefixEnd, msgEnd);
  while (p < end) {
    const tag = readVarint(buf, p, end);
    if (!tag) return end < msgEnd ? { ok: true, fields, open: true } : FAIL;
    const field = Number(tag.value >> 3n);
    const wire = Number(tag.value & 7n);
    if (field === 0 || field > MAX_FIELD) return FAIL;
    if (fields === 0 && first && !first(field, wire, buf, tag.next)) return FAIL;
    p = tag.next;
    switch (wire) {
      case 0: {
        const v = readVarint(buf, p, end);
        if (!v) return end < msgEnd ? { ok: true, fields, open: true } : FAIL;
        p = v.next;
        break;
      }
      case 1:
        p += 8;
        break;
      case 5:
        p += 4;
        break;
      case 2: {
        const len = readVarint(buf, p, end);
        if (!len) return end < msgEnd ? { ok: true, fields, open: true } : FAIL;
        const bodyEnd = len.next + Number(len.value);
        if (len.value > BigInt(msgEnd) || bodyEnd > msgEnd) return FAIL;
        if (bodyEnd > prefixEnd) {
          // The field runs past what we have. Enough evidence already: accept (it may be raw
          // tensor data). Otherwise it must be a message (graph, node) whose visible part parses.
          if (before + fields + 1 >= MIN_FIELDS) return { ok: true, fields: fields + 1, open: true };
          if (depth >= MAX_DEPTH) return FAIL;
          const inner = walk(buf, len.next, prefixEnd, bodyEnd, before + fields + 1, depth + 1);
          if (!inner.ok) return FAIL;
          return { ok: true, fields: fields + 1 + inner.fields, open: true };
        }
        p = bodyEnd;
        break;
      }
      default:
        // 3/4 (groups) are not used by onnx.proto or uff.proto; 6/7 do not exist.
        return FAIL;
    }
    fields++;
  }
  if (p > msgEnd) return FAIL;
  return { ok: true, fields, open: p < msgEnd };
}

/**
 * `prefix` = the first bytes of the plaintext; `totalBytes` = the full plaintext length.
 * True when the prefix is a well-formed protobuf of at least MIN_FIELDS fields (or a complete
 * shorter message) whose first field fits the kind (ONNX: ir_version 1..32).
 */
export function looksLikeProtobuf(prefix: Uint8Array, totalBytes: number, kind: ProtobufKind): boolean {
  if (prefix.length === 0 || totalBytes < prefix.length) return false;
  const first =
    kind === 'onnx'
      ? (field: number, wire: number, buf: Uint8Array, at: number): boolean => {
          if (field !== 1 || wire !== 0) return false;
          const v = readVarint(buf, at, buf.length);
          return v !== undefined && v.value >= 1n && v.value <= BigInt(ONNX_MAX_IR_VERSION);
        }
      : (field: number, wire: number): boolean => field <= UFF_FIRST_FIELD_MAX && (wire === 0 || wire === 2);
  const w = walk(prefix, 0, prefix.length, totalBytes, 0, 0, first);
  if (!w.ok || w.fields === 0) return false;
  return w.open ? w.fields >= MIN_FIELDS : true;
}

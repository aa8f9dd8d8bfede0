import { createCipheriv, createDecipheriv, pbkdf2, type Decipher } from 'node:crypto';
import { AgentError } from '../core/errors.js';

/**
 * The .etlt container (docs/reference/etlt-format.md "Layout"): int32 LE name length N, N bytes input name (plain),
 * 16-byte nonce, then AES-256-CTR ciphertext of the model (no padding, no MAC). Key =
 * PBKDF2-HMAC-SHA256(key string, fixed salt, 100000, 32). N > 0 ⇒ UFF payload, N = 0 ⇒ ONNX.
 * Pure: no file access here (see etlt-file.ts).
 */

/** Fixed 32-byte salt, same for every file (docs/reference/etlt-format.md "Cipher and key derivation"). */
export const ETLT_SALT = Buffer.from('cb3cdc2e858689da908563056a00dbed09ac076c785543c4610f06d31b53a732', 'hex');
/** PBKDF2 iterations and key length (docs/reference/etlt-format.md "Cipher and key derivation"). */
export const ETLT_KDF_ITERATIONS = 100_000;
export const ETLT_KEY_BYTES = 32;
/** Nonce = the full initial 128-bit CTR counter block (docs/reference/etlt-format.md "Cipher and key derivation"). */
export const ETLT_NONCE_BYTES = 16;
/** An input name longer than this is treated as a corrupt header (real names: `Input`, `input_1`). */
export const ETLT_MAX_NAME_BYTES = 1024;

export type EtltPayload = 'uff' | 'onnx';

export interface EtltHeader {
  readonly inputName: string;
  readonly nonce: Buffer;
  /** Byte offset of the ciphertext (20 + N). */
  readonly payloadOffset: number;
  readonly payloadBytes: number;
  readonly payload: EtltPayload;
}

/** PBKDF2-HMAC-SHA256 of the key string (UTF-8, as Python `str.encode`). */
export function deriveEtltKey(key: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(Buffer.from(key, 'utf8'), ETLT_SALT, ETLT_KDF_ITERATIONS, ETLT_KEY_BYTES, 'sha256', (err, derived) => {
      if (err) reject(err);
      else resolve(derived);
    });
  });
}

function corrupt(message: string, hint = 'Re-export the model or copy the file again; it is truncated or not an .etlt.'): AgentError {
  return new AgentError('ETLT_CORRUPT', message, { hint });
}

/**
 * Parse the header from the first bytes of a file of `fileSize` bytes. `head` must hold at
 * least min(fileSize, 20 + ETLT_MAX_NAME_BYTES) bytes. Checks N ≥ 0, 20 + N ≤ size, printable
 * name (docs/reference/etlt-format.md "Node.js mapping").
 */
export function parseEtltHeader(head: Uint8Array, fileSize: number): EtltHeader {
  const buf = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (fileSize < 4 + ETLT_NONCE_BYTES || buf.length < 4) {
    throw corrupt(`The file is ${fileSize} bytes, shorter than the smallest .etlt header (20 bytes).`);
  }
  const n = buf.readInt32LE(0);
  if (n < 0 || n > ETLT_MAX_NAME_BYTES) {
    throw corrupt(`The header's input-name length is ${n}; an .etlt has 0..${ETLT_MAX_NAME_BYTES}.`);
  }
  if (20 + n > fileSize) {
    throw corrupt(`The header says the input name has ${n} bytes, but the file (${fileSize} bytes) ends before the nonce.`);
  }
  if (buf.length < 20 + n) throw new Error(`parseEtltHeader needs ${20 + n} bytes, got ${buf.length}`);
  const nameBytes = buf.subarray(4, 4 + n);
  for (const b of nameBytes) {
    if (b < 0x20 || b > 0x7e) throw corrupt('The header\'s input name is not printable ASCII; this is not an .etlt file.');
  }
  return {
    inputName: nameBytes.toString('latin1'),
    nonce: Buffer.from(buf.subarray(4 + n, 20 + n)),
    payloadOffset: 20 + n,
    payloadBytes: fileSize - (20 + n),
    payload: n > 0 ? 'uff' : 'onnx',
  };
}

/** A streaming AES-256-CTR decipher for the ciphertext that starts at `payloadOffset`. */
export function etltDecipher(key32: Uint8Array, nonce: Uint8Array): Decipher {
  return createDecipheriv('aes-256-ctr', key32, nonce);
}

/**
 * Build an .etlt (tests and `package create` checks only; the agent never re-encrypts models).
 * `inputName` empty ⇒ ONNX-style header (N = 0).
 */
export function encodeEtlt(plain: Uint8Array, key32: Uint8Array, inputName: string, nonce: Uint8Array): Buffer {
  if (nonce.length !== ETLT_NONCE_BYTES) throw new Error('nonce must be 16 bytes');
  const name = Buffer.from(inputName, 'latin1');
  const len = Buffer.alloc(4);
  len.writeInt32LE(name.length, 0);
  const cipher = createCipheriv('aes-256-ctr', key32, nonce);
  return Buffer.concat([len, name, Buffer.from(nonce), cipher.update(plain), cipher.final()]);
}

/** Decrypt a whole in-memory .etlt (tests and small files). */
export function decodeEtltBuffer(file: Uint8Array, key32: Uint8Array): { header: EtltHeader; plain: Buffer } {
  const header = parseEtltHeader(file, file.length);
  const d = etltDecipher(key32, header.nonce);
  const plain = Buffer.concat([d.update(file.subarray(header.payloadOffset)), d.final()]);
  return { header, plain };
}

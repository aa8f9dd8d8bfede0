import t from 'tap';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ETLT_SALT,
  decodeEtltBuffer,
  deriveEtltKey,
  encodeEtlt,
  etltDecipher,
  parseEtltHeader,
} from '../../../agent/src/models/etlt.js';
import { decryptEtlt, etltKeyMatches, inspectModelFile, assertEtltKey } from '../../../agent/src/models/etlt-file.js';
import { looksLikeProtobuf } from '../../../agent/src/models/protobuf-sniff.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import { onnxShapedBytes, uffShapedBytes } from '../../helpers/protobuf-bytes.js';

// Test vectors verbatim from docs/reference/etlt-format.md "Test vectors".
const NONCE = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const PLAIN = Buffer.from('65746c742d746573742d7061796c6f61642d30313233343536373839', 'hex');
const UFF_FILE = '05000000496e707574000102030405060708090a0b0c0d0e0f7973742a466c80c268abca22e790d494ef968854a034a4e67a0ef2d0';
const ONNX_FILE = '00000000000102030405060708090a0b0c0d0e0f7973742a466c80c268abca22e790d494ef968854a034a4e67a0ef2d0';

const codeOf = (err: unknown): string | undefined => (err instanceof AgentError ? err.code : undefined);

t.test('etlt-format.md test vectors: PBKDF2 keys, salt, UFF-style and ONNX-style files', async (t) => {
  t.equal(ETLT_SALT.length, 32);
  t.equal((await deriveEtltKey('nvidia_tlt')).toString('hex'), 'ea82d654e0bf5d97af42c4dcd6bff6cc69143a97e343b6ae8d12c6bb18be5410');
  t.equal((await deriveEtltKey('tlt_encode')).toString('hex'), '5c192ece6a4278fb0d791cce8178a21760a0c93f79e5ba4d2d96644af294e185');
  t.equal(PLAIN.toString(), 'etlt-test-payload-0123456789');
  const key = await deriveEtltKey('nvidia_tlt');
  t.equal(encodeEtlt(PLAIN, key, 'Input', NONCE).toString('hex'), UFF_FILE);
  t.equal(encodeEtlt(PLAIN, key, '', NONCE).toString('hex'), ONNX_FILE);
  const uff = decodeEtltBuffer(Buffer.from(UFF_FILE, 'hex'), key);
  t.equal(uff.header.inputName, 'Input');
  t.equal(uff.header.payload, 'uff');
  t.equal(uff.plain.toString(), 'etlt-test-payload-0123456789');
  const onnx = decodeEtltBuffer(Buffer.from(ONNX_FILE, 'hex'), key);
  t.equal(onnx.header.payload, 'onnx');
  t.equal(onnx.header.inputName, '');
  t.equal(onnx.plain.toString(), 'etlt-test-payload-0123456789');
});

t.test('etlt-format.md test vectors: 2200-byte plaintext, streamed in odd chunks, and counter wrap', async (t) => {
  const key = await deriveEtltKey('nvidia_tlt');
  const plain = Buffer.from('hello etlt '.repeat(200));
  t.equal(plain.length, 2200);
  const file = encodeEtlt(plain, key, '', NONCE);
  const ct = file.subarray(20);
  t.equal(createHash('sha256').update(ct).digest('hex'), '9d857458e53d2c7eaccca63bdab82e2bd3b76ba54a746cf481e49699edeb28be');
  t.equal(ct.subarray(0, 16).toString('hex'), '74627432043880c570f29a2bfb90d79a');
  const wrap = encodeEtlt(plain, key, '', Buffer.alloc(16, 0xff)).subarray(20);
  t.equal(createHash('sha256').update(wrap).digest('hex'), '03b2f3ea264164a25ec91f9831fe04189294b46681470549988a93ebff37e5b1');
  // Streaming decryption in chunks that do not align with AES blocks gives the same plaintext.
  const d = etltDecipher(key, NONCE);
  const parts: Buffer[] = [];
  for (let i = 0; i < ct.length; i += 1000) parts.push(d.update(ct.subarray(i, i + 1000)));
  parts.push(d.final());
  t.ok(Buffer.concat(parts).equals(plain));
});

t.test('header checks: truncated and malformed headers are ETLT_CORRUPT', async (t) => {
  const good = Buffer.from(UFF_FILE, 'hex');
  t.throws(() => parseEtltHeader(good.subarray(0, 10), 10), { code: 'ETLT_CORRUPT' }, 'shorter than 20 bytes');
  t.throws(() => parseEtltHeader(good.subarray(0, 22), 22), { code: 'ETLT_CORRUPT' }, 'ends inside the nonce');
  const negative = Buffer.from(good);
  negative.writeInt32LE(-5, 0);
  t.throws(() => parseEtltHeader(negative, negative.length), { code: 'ETLT_CORRUPT', message: /-5/ });
  const huge = Buffer.from(good);
  huge.writeInt32LE(0x7fffffff, 0);
  t.throws(() => parseEtltHeader(huge, huge.length), { code: 'ETLT_CORRUPT' });
  const binaryName = Buffer.from(good);
  binaryName[5] = 0x01;
  t.throws(() => parseEtltHeader(binaryName, binaryName.length), { code: 'ETLT_CORRUPT', message: /printable/ });
  // A JPEG renamed to .etlt: N = 0xe0ffd8ff read as int32 LE is negative.
  const jpeg = Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex');
  t.throws(() => parseEtltHeader(jpeg, jpeg.length), { code: 'ETLT_CORRUPT' });
});

t.test('protobuf sniffing accepts model-shaped plaintext and rejects garbage and text', async (t) => {
  const onnx = onnxShapedBytes();
  t.ok(looksLikeProtobuf(onnx, onnx.length, 'onnx'));
  t.ok(looksLikeProtobuf(onnx.subarray(0, 100), onnx.length, 'onnx'), 'a prefix of a longer message');
  t.notOk(looksLikeProtobuf(onnx.subarray(0, 100), 100, 'onnx'), 'a field running past the end');
  const uff = uffShapedBytes();
  t.ok(looksLikeProtobuf(uff, uff.length, 'uff'));
  t.notOk(looksLikeProtobuf(PLAIN, PLAIN.length, 'onnx'), 'text is not ONNX');
  const noIrVersion = Buffer.from(onnx);
  noIrVersion[1] = 0x00;
  t.notOk(looksLikeProtobuf(noIrVersion, noIrVersion.length, 'onnx'), 'ONNX must start with ir_version 1..32');
  t.notOk(looksLikeProtobuf(Buffer.concat([onnx.subarray(0, 11), Buffer.alloc(40, 0xff)]), 1 << 20, 'onnx'), 'garbage after a valid start');
  // 2000 random 4 KiB blocks (what a wrong key yields) must all be rejected.
  const key = await deriveEtltKey('definitely-wrong');
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    const nonce = Buffer.alloc(16);
    nonce.writeUInt32BE(i, 12);
    const d = etltDecipher(key, nonce);
    const garbage = d.update(Buffer.alloc(4096));
    if (looksLikeProtobuf(garbage, 1 << 20, 'onnx') || looksLikeProtobuf(garbage, 1 << 20, 'uff')) accepted++;
  }
  t.equal(accepted, 0, 'no random block passes as a protobuf');
});

t.test('files: inspect, key check, wrong key, streamed decrypt', async (t) => {
  const dir = t.testdir();
  const key = await deriveEtltKey('nvidia_tlt');
  const onnxPlain = onnxShapedBytes(200_000);
  const onnxEtlt = path.join(dir, 'yolo.etlt');
  writeFileSync(onnxEtlt, encodeEtlt(onnxPlain, key, '', NONCE));
  const uffEtlt = path.join(dir, 'yolo_uff.etlt');
  writeFileSync(uffEtlt, encodeEtlt(uffShapedBytes('Input'), key, 'Input', NONCE));

  const noKey = await inspectModelFile(onnxEtlt);
  t.same(
    { format: noKey.format, payload: noKey.payload, inputName: noKey.inputName, keyValid: noKey.keyValid },
    { format: 'etlt', payload: 'onnx', inputName: null, keyValid: null },
  );
  t.equal(noKey.sizeBytes, onnxPlain.length + 20);
  t.match(noKey.sha256, /^[0-9a-f]{64}$/);
  t.equal((await inspectModelFile(onnxEtlt, { name: 'k', value: 'nvidia_tlt' })).keyValid, true);
  t.equal((await inspectModelFile(onnxEtlt, { name: 'k', value: 'tlt_encode' })).keyValid, false);
  const uff = await inspectModelFile(uffEtlt, { name: 'k', value: 'nvidia_tlt' });
  t.same([uff.payload, uff.inputName, uff.keyValid], ['uff', 'Input', true]);
  t.equal(await etltKeyMatches(uffEtlt, 'wrong'), false);

  const err = await assertEtltKey(onnxEtlt, 'wrong-key-value', 'yolo-key').catch((e: unknown) => e);
  t.equal(codeOf(err), 'ETLT_BAD_KEY');
  t.match((err as Error).message, /yolo-key/);
  t.notMatch((err as Error).message, /wrong-key-value/, 'the key itself is never in the error');

  const { plain } = await decryptEtlt(onnxEtlt, 'nvidia_tlt');
  t.ok(plain.equals(onnxPlain), 'streamed decryption of a 200 kB payload');

  const plainOnnx = path.join(dir, 'model.onnx');
  writeFileSync(plainOnnx, onnxPlain);
  const o = await inspectModelFile(plainOnnx);
  t.same([o.format, o.payload, o.keyValid], ['onnx', 'onnx', null]);

  const truncated = path.join(dir, 'cut.etlt');
  writeFileSync(truncated, Buffer.from(UFF_FILE, 'hex').subarray(0, 15));
  t.equal(codeOf(await inspectModelFile(truncated).catch((e: unknown) => e)), 'ETLT_CORRUPT');
});

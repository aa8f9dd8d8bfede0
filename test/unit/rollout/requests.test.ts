import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { handleRequest, type RequestHandlers } from '../../../agent/src/rollout/requests.js';
import { KeyRing, signEnvelope } from '../../../agent/src/core/envelope.js';

const fleet = generateKeyPairSync('ed25519');
const keys = new KeyRing([{ keyId: 'k', publicKey: fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString() }]);
const NOW = Date.parse('2026-11-27T12:00:00Z');
let rollbacks = 0;
const handlers: RequestHandlers = {
  ping: async () => ({ pong: true }),
  rollback: async () => {
    rollbacks++;
    return { name: 'det', version: '1' };
  },
  'get-config': async () => ({ mqtt: { password: '***' } }),
  'plugin-status': undefined,
  'plugin-rebuild': undefined,
  'restart-inference': undefined,
};
const ctx = { deviceId: 'jet-1', keys, now: NOW, handlers };
const signed = (body: object) => Buffer.from(JSON.stringify(signEnvelope(JSON.stringify(body), fleet.privateKey, 'k')));
const valid = { v: 1, transaction: 't1', deviceId: 'jet-1', expiresAt: '2026-11-27T12:05:00Z' };

t.test('signed op runs and echoes the transaction', async (t) => {
  t.same(await handleRequest('rollback', signed(valid), ctx), { v: 1, transaction: 't1', status: 'ok', data: { name: 'det', version: '1' } });
  t.equal(rollbacks, 1);
});

t.test('refused: unsigned, for another device, expired, without expiry, unknown op, not wired', async (t) => {
  const code = async (op: string, raw: Buffer) => (await handleRequest(op, raw, ctx)).error?.code;
  t.equal(await code('rollback', Buffer.from(JSON.stringify(valid))), 'MANIFEST_MALFORMED');
  t.equal(await code('rollback', signed({ ...valid, deviceId: 'jet-2' })), 'MANIFEST_INVALID');
  t.equal(await code('rollback', signed({ ...valid, expiresAt: '2026-11-27T11:59:59Z' })), 'MANIFEST_EXPIRED');
  const { expiresAt: _e, ...noExpiry } = valid;
  t.equal(await code('rollback', signed(noExpiry)), 'MANIFEST_EXPIRED');
  t.equal(await code('reboot', signed(valid)), 'REQUEST_UNKNOWN_OP');
  t.equal(await code('plugin-status', signed(valid)), 'DEPLOYMENT_NOT_WIRED');
  t.equal(rollbacks, 1, 'no refused request ran');
  const res = await handleRequest('reboot', Buffer.from(JSON.stringify({ v: 1, transaction: 'x9' })), ctx);
  t.equal(res.transaction, 'x9', 'the transaction is echoed even on errors when readable');
  const stranger = generateKeyPairSync('ed25519');
  const refused = await handleRequest('get-config', Buffer.from(JSON.stringify(signEnvelope(JSON.stringify(valid), stranger.privateKey, 'other'))), ctx);
  t.same([refused.status, refused.error?.code, refused.transaction], ['error', 'MANIFEST_UNKNOWN_KEY', 't1'], 'a refused signed request is answered on its own transaction, so the sender can match it');
  t.equal((await handleRequest('reboot', signed(valid), ctx)).transaction, 't1');
});

t.test('ping works in clear and signed', async (t) => {
  t.same(await handleRequest('ping', Buffer.from('{"v":1,"transaction":"p"}'), ctx), { v: 1, transaction: 'p', status: 'ok', data: { pong: true } });
  t.equal((await handleRequest('ping', signed({ v: 1, transaction: 'q' }), ctx)).status, 'ok');
  t.equal((await handleRequest('ping', Buffer.from('{"v":1}'), ctx)).status, 'error');
});

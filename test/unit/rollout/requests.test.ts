import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { handleRequest, type RequestContext, type RequestHandlers } from '../../../agent/src/rollout/requests.js';
import { REPLAY_FILE, RequestReplayCache } from '../../../agent/src/rollout/request-replay.js';
import { KeyRing, signEnvelope } from '../../../agent/src/core/envelope.js';
import { silentLogger } from '../../../agent/src/core/log.js';

const fleet = generateKeyPairSync('ed25519');
const keys = new KeyRing([{ keyId: 'k', publicKey: fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString() }]);
const NOW = Date.parse('2026-11-27T12:00:00Z');
const ran: string[] = [];
const handlers: RequestHandlers = {
  ping: async () => ({ pong: true }),
  rollback: async () => {
    ran.push('rollback');
    return { name: 'det', version: '1' };
  },
  'get-config': async () => {
    ran.push('get-config');
    return { mqtt: { password: '***' } };
  },
  'plugin-status': undefined,
  'plugin-rebuild': undefined,
  'restart-inference': async () => {
    ran.push('restart-inference');
    return { restartMs: 1 };
  },
};

function context(dir: string, now = NOW): RequestContext & { replay: RequestReplayCache } {
  return { deviceId: 'jet-1', keys, now, handlers, replay: new RequestReplayCache(dir, silentLogger), maxTtlMs: 3_600_000 };
}
const signed = (body: object) => Buffer.from(JSON.stringify(signEnvelope(JSON.stringify(body), fleet.privateKey, 'k')));
const req = (op: string, transaction: string, over: object = {}) => ({ v: 2, op, transaction, deviceId: 'jet-1', expiresAt: '2026-11-27T12:05:00Z', ...over });

t.beforeEach(() => void ran.splice(0));

t.test('signed op runs and echoes the transaction', async (t) => {
  const ctx = context(t.testdir());
  t.same(await handleRequest('rollback', signed(req('rollback', 't1')), ctx), { v: 1, transaction: 't1', status: 'ok', data: { name: 'det', version: '1' } });
  t.same(ran, ['rollback']);
});

t.test('attack: a captured get-config envelope republished on request/restart-inference is refused', async (t) => {
  const ctx = context(t.testdir());
  const captured = signed(req('get-config', 'tx-cfg'));
  t.equal((await handleRequest('get-config', captured, ctx)).status, 'ok');
  const res = await handleRequest('restart-inference', captured, ctx);
  t.match(res, { status: 'error', transaction: 'tx-cfg', error: { code: 'REQUEST_MISDIRECTED', message: /for the op "get-config" but arrived on the "restart-inference" topic/ } });
  t.same(ran, ['get-config'], 'the restart did not run');
});

t.test('attack: the same envelope replayed is refused, also after an agent restart', async (t) => {
  const dir = t.testdir();
  const captured = signed(req('restart-inference', 'tx-r1'));
  t.equal((await handleRequest('restart-inference', captured, context(dir))).status, 'ok');
  // A new agent process: a new cache, loaded from disk at start as the daemon does.
  const afterRestart = context(dir, NOW + 1000);
  await afterRestart.replay.load(NOW + 1000);
  t.match(await handleRequest('restart-inference', captured, afterRestart), { status: 'error', error: { code: 'REQUEST_REPLAYED' } }, 'a fresh agent (new cache loaded from disk) refuses it');
  t.same(ran, ['restart-inference'], 'the op ran once');
  const onDisk = JSON.parse(readFileSync(path.join(dir, REPLAY_FILE), 'utf8')) as { v: number; seen: { transaction: string; expiresAt: number }[] };
  t.same(onDisk, { v: 1, seen: [{ transaction: 'tx-r1', expiresAt: Date.parse('2026-11-27T12:05:00Z') }] });
});

t.test('replay in the same process, and two copies arriving together: one runs', async (t) => {
  const ctx = context(t.testdir());
  const captured = signed(req('rollback', 'tx-2'));
  const [a, b] = await Promise.all([handleRequest('rollback', captured, ctx), handleRequest('rollback', captured, ctx)]);
  t.same([a.status, b.status].sort(), ['error', 'ok']);
  t.equal((await handleRequest('rollback', captured, ctx)).error?.code, 'REQUEST_REPLAYED');
  t.same(ran, ['rollback']);
});

t.test('expired entries are dropped from the record; a damaged record is moved aside', async (t) => {
  const dir = t.testdir();
  const ctx = context(dir);
  await handleRequest('rollback', signed(req('rollback', 'old', { expiresAt: '2026-11-27T12:00:30Z' })), ctx);
  const later = context(dir, NOW + 60_000);
  await later.replay.load(NOW + 60_000);
  t.equal(later.replay.size, 0, 'expired on load');
  await handleRequest('rollback', signed(req('rollback', 'new', { expiresAt: '2026-11-27T12:10:00Z' })), later);
  t.same((JSON.parse(readFileSync(path.join(dir, REPLAY_FILE), 'utf8')) as { seen: { transaction: string }[] }).seen.map((e) => e.transaction), ['new']);

  writeFileSync(path.join(dir, REPLAY_FILE), '{"v":1,"seen":[{"transaction":5}]}');
  const fresh = context(dir);
  await fresh.replay.load(NOW);
  t.equal(fresh.replay.size, 0);
  t.throws(() => readFileSync(path.join(dir, REPLAY_FILE)), { code: 'ENOENT' }, 'the damaged file was moved aside');
  t.ok(readFileSync(path.join(dir, `${REPLAY_FILE}.corrupt-${NOW}`), 'utf8').includes('"transaction":5'));
});

t.test('an unwritable record refuses the request instead of running it', async (t) => {
  const ctx = context(path.join(t.testdir(), 'missing-dir'));
  const res = await handleRequest('rollback', signed(req('rollback', 'tx-w')), ctx);
  t.match(res, { status: 'error', error: { code: 'FS_ERROR', message: /it was not run/ } });
  t.same(ran, []);
});

t.test('refused: unsigned, v1, other device, expired, too far ahead, unknown op, not wired', async (t) => {
  const ctx = context(t.testdir());
  const code = async (op: string, raw: Buffer) => (await handleRequest(op, raw, ctx)).error?.code;
  t.equal(await code('rollback', Buffer.from(JSON.stringify(req('rollback', 'u')))), 'MANIFEST_MALFORMED');
  const v1 = await handleRequest('rollback', signed({ v: 1, transaction: 'v1', deviceId: 'jet-1', expiresAt: '2026-11-27T12:05:00Z' }), ctx);
  t.match(v1.error, { code: 'MANIFEST_INVALID', message: /version 1, which does not bind the op/, hint: /same release/ });
  t.equal(await code('rollback', signed(req('rollback', 'd', { deviceId: 'jet-2' }))), 'REQUEST_MISDIRECTED');
  t.equal(await code('rollback', signed(req('rollback', 'e', { expiresAt: '2026-11-27T11:59:59Z' }))), 'MANIFEST_EXPIRED');
  const { expiresAt: _e, ...noExpiry } = req('rollback', 'n');
  t.equal(await code('rollback', signed(noExpiry)), 'MANIFEST_INVALID');
  t.match((await handleRequest('rollback', signed(req('rollback', 'f', { expiresAt: '2026-11-27T13:00:01Z' })), ctx)).error, { code: 'MANIFEST_INVALID', message: /requestMaxTtlSec/ });
  t.equal(await code('reboot', signed(req('reboot', 'r'))), 'REQUEST_UNKNOWN_OP');
  t.equal(await code('plugin-status', signed(req('plugin-status', 's'))), 'DEPLOYMENT_NOT_WIRED');
  t.same(ran, [], 'no refused request ran');
  t.equal(ctx.replay.size, 0, 'refused requests are not recorded');
  const res = await handleRequest('reboot', Buffer.from(JSON.stringify({ v: 2, transaction: 'x9' })), ctx);
  t.equal(res.transaction, 'x9', 'the transaction is echoed even on errors when readable');
  const stranger = generateKeyPairSync('ed25519');
  const refused = await handleRequest('get-config', Buffer.from(JSON.stringify(signEnvelope(JSON.stringify(req('get-config', 't1')), stranger.privateKey, 'other'))), ctx);
  t.same([refused.status, refused.error?.code, refused.transaction], ['error', 'MANIFEST_UNKNOWN_KEY', 't1'], 'a refused signed request is answered on its own transaction, so the sender can match it');
});

t.test('ping works in clear and signed (signed: bound like every other op)', async (t) => {
  const ctx = context(t.testdir());
  t.same(await handleRequest('ping', Buffer.from('{"v":1,"transaction":"p"}'), ctx), { v: 1, transaction: 'p', status: 'ok', data: { pong: true } });
  t.equal((await handleRequest('ping', signed(req('ping', 'q')), ctx)).status, 'ok');
  t.equal((await handleRequest('ping', signed(req('ping', 'q')), ctx)).error?.code, 'REQUEST_REPLAYED');
  t.equal((await handleRequest('ping', Buffer.from('{"v":1}'), ctx)).status, 'error');
});

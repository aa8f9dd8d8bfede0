import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KeyRing } from '../../../agent/src/core/envelope.js';
import { REQUEST_OPS } from '../../../agent/src/core/contracts/topics.js';
import { keyIdOf } from '../../../agent/src/fleet/key-id.js';
import { describeStatus, parseOp, parseParams, REQUEST_DELIVERY_MS, REQUEST_SKEW_MS, requestBody, responseError, timeoutError } from '../../../agent/src/fleet/request.js';
import { handleRequest, type RequestContext, type RequestHandlers } from '../../../agent/src/rollout/requests.js';
import { RequestReplayCache } from '../../../agent/src/rollout/request-replay.js';
import { silentLogger } from '../../../agent/src/core/log.js';

const fleet = generateKeyPairSync('ed25519');
const NOW = Date.parse('2026-11-28T01:00:00Z');
const seen: Record<string, unknown>[] = [];
const handlers: RequestHandlers = {
  ping: async () => ({ pong: true }),
  rollback: async (p) => {
    seen.push(p);
    return { name: 'det', version: '1' };
  },
  'get-config': undefined,
  'plugin-status': undefined,
  'plugin-rebuild': undefined,
  'restart-inference': undefined,
};
const tempDir = (): string => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'req-replay-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
};
// The device's own request handler judges what the controller builds (each call: a fresh
// device memory of accepted requests, unless one is passed).
const device = (id: string, now: number, replay: RequestReplayCache = new RequestReplayCache(tempDir(), silentLogger)): RequestContext => ({
  deviceId: id,
  keys: new KeyRing([{ keyId: keyIdOf(fleet.publicKey), publicKey: fleet.publicKey.export({ type: 'spki', format: 'pem' }).toString() }]),
  now,
  handlers,
  replay,
  maxTtlMs: 3_600_000,
});

t.test('ops and params', async (t) => {
  for (const op of REQUEST_OPS) t.equal(parseOp(op), op, `${op} is accepted (the device decides whether it offers it)`);
  t.throws(() => parseOp('reboot'), { code: 'REQUEST_UNKNOWN_OP' });
  t.same(parseParams(['deploymentId=dep-1', 'force=true', 'n=3', 'obj={"a":1}', 'eq=a=b']), { deploymentId: 'dep-1', force: true, n: 3, obj: { a: 1 }, eq: 'a=b' });
  t.throws(() => parseParams(['novalue']), { code: 'USAGE' });
  t.throws(() => parseParams(['=x']), { code: 'USAGE' });
});

t.test('a signed request is accepted once, by the device and op it names, until shortly after it was sent', async (t) => {
  const body = requestBody({ op: 'rollback', deviceId: 'jet-1', transaction: 'tx-1', params: { deploymentId: 'dep-1' }, now: NOW, timeoutMs: 30_000, key: fleet.privateKey });
  const payload = JSON.parse(Buffer.from((JSON.parse(body) as { payload: string }).payload, 'base64').toString('utf8')) as Record<string, unknown>;
  t.same(payload, { v: 2, op: 'rollback', transaction: 'tx-1', deviceId: 'jet-1', expiresAt: new Date(NOW + 30_000 + REQUEST_SKEW_MS).toISOString(), params: { deploymentId: 'dep-1' } }, 'op and device are signed');
  const replay = new RequestReplayCache(tempDir(), silentLogger);
  t.same(await handleRequest('rollback', Buffer.from(body), device('jet-1', NOW, replay)), { v: 1, transaction: 'tx-1', status: 'ok', data: { name: 'det', version: '1' } });
  t.same(seen.at(-1), { deploymentId: 'dep-1' }, 'the params reach the handler');
  t.equal((await handleRequest('rollback', Buffer.from(body), device('jet-1', NOW + 1, replay))).error?.code, 'REQUEST_REPLAYED', 'sent again: refused');
  const late = await handleRequest('rollback', Buffer.from(body), device('jet-1', NOW + 30_000 + REQUEST_SKEW_MS + 1));
  t.equal(late.error?.code, 'MANIFEST_EXPIRED', 'refused once the controller has long given up');
  const other = await handleRequest('rollback', Buffer.from(body), device('jet-2', NOW));
  t.equal(other.error?.code, 'REQUEST_MISDIRECTED', 'refused by any other device');
  t.equal((await handleRequest('restart-inference', Buffer.from(body), device('jet-1', NOW))).error?.code, 'REQUEST_MISDIRECTED', 'refused on any other op');
});

t.test('the expiry bounds delivery, not the wait: a long --timeout does not make a long-lived request', async (t) => {
  const body = requestBody({ op: 'plugin-rebuild', deviceId: 'jet-1', transaction: 'tx-p', params: {}, now: NOW, timeoutMs: 2 * 3600_000, key: fleet.privateKey });
  const payload = JSON.parse(Buffer.from((JSON.parse(body) as { payload: string }).payload, 'base64').toString('utf8')) as { expiresAt: string };
  t.equal(Date.parse(payload.expiresAt), NOW + REQUEST_DELIVERY_MS + REQUEST_SKEW_MS);
});

t.test('ping goes in clear without a key; other ops need one', async (t) => {
  const ping = requestBody({ op: 'ping', deviceId: 'jet-1', transaction: 'p-1', params: {}, now: NOW, timeoutMs: 1000, key: undefined });
  t.same(JSON.parse(ping), { v: 1, transaction: 'p-1' });
  t.equal((await handleRequest('ping', Buffer.from(ping), device('jet-1', NOW))).status, 'ok');
  t.throws(() => requestBody({ op: 'get-config', deviceId: 'jet-1', transaction: 'x', params: {}, now: NOW, timeoutMs: 1000, key: undefined }), { code: 'USAGE' });
});

t.test('responses: ok, refused, failed', async (t) => {
  t.equal(responseError('jet-1', 'ping', { v: 1, transaction: 't', status: 'ok', data: {} }), null);
  const refused = responseError('jet-1', 'get-config', { v: 1, transaction: 't', status: 'error', error: { code: 'MANIFEST_UNKNOWN_KEY', message: 'keyId "k" not trusted' } });
  t.match(refused, { code: 'FLEET_REQUEST_REJECTED', message: /jet-1 refused the get-config request: MANIFEST_UNKNOWN_KEY/, hint: /rollout\.fleetPublicKeys/ });
  t.match(responseError('jet-1', 'restart-inference', { v: 1, transaction: 't', status: 'error', error: { code: 'DEPLOYMENT_NOT_WIRED', message: 'no' } }), {
    code: 'FLEET_REQUEST_FAILED',
    hint: /does not offer "restart-inference"/,
  });
  t.match(responseError('jet-1', 'rollback', { v: 1, transaction: 't', status: 'error', error: { code: 'NO_PREVIOUS_MODEL', message: 'none' } }), {
    code: 'FLEET_REQUEST_FAILED',
    message: /answered rollback with an error: NO_PREVIOUS_MODEL: none/,
    details: { deviceCode: 'NO_PREVIOUS_MODEL' },
  });
});

t.test('timeouts name the retained status', async (t) => {
  t.match(describeStatus(null), /never connected/);
  t.equal(describeStatus({ v: 1, state: 'offline', reason: 'will' }), 'offline (connection lost: last will)');
  t.equal(describeStatus({ v: 1, state: 'online', ts: '2026-11-28T00:00:00Z' }), 'online since 2026-11-28T00:00:00Z');
  const e = timeoutError('jet-1', 'ping', 90_000, { v: 1, state: 'offline', ts: '2026-11-28T00:00:00Z', reason: 'graceful' }, 'jetson/v1');
  t.match(e, { code: 'FLEET_REQUEST_TIMEOUT', message: 'No response from jet-1 to ping within 1m30s; the device is offline since 2026-11-28T00:00:00Z (the agent stopped).', hint: /offline/ });
  t.match(timeoutError('jet-1', 'ping', 1000, { v: 1, state: 'online' }, 'jetson/v1').hint, /online but did not answer.*jetson\/v1\/devices\/jet-1\/request/);
});

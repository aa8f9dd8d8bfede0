import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { FleetView } from '../../../agent/src/fleet/fleet-view.js';
import { deviceRows, driftOf } from '../../../agent/src/fleet/devices-format.js';
import { parseDevicesFile } from '../../../agent/src/fleet/devices-file.js';
import { summarizeErrors } from '../../../agent/src/fleet/error-summary.js';
import { judgeRollback, rollbackCounts } from '../../../agent/src/fleet/rollback-report.js';
import { rolloutListRows } from '../../../agent/src/fleet/rollout-format.js';
import { signManifest } from '../../../agent/src/fleet/manifest-sign.js';
import { buildManifest } from '../../../agent/src/fleet/manifest.js';
import type { DeploymentState } from '../../../agent/src/core/contracts/deployment.js';
import type { DeviceView } from '../../../agent/src/fleet/types.js';
import type { RolloutRecord } from '../../../agent/src/fleet/rollout-record.js';

const P = 'jetson/v1';
const key = generateKeyPairSync('ed25519').privateKey;
const envelope = (id: string, version: string, sequence = 1): string =>
  JSON.stringify(
    signManifest(
      { ...buildManifest({ now: Date.now(), expiresInMs: 3_600_000, url: 'https://pkg.example/p.tar', sha256: 'a'.repeat(64), size: 10, model: { name: 'det', version }, deploymentId: id }), sequence },
      key,
    ),
  );
const report = (deploymentId: string, state: DeploymentState, error?: { code: string; message: string }) =>
  ({ v: 1, deploymentId, source: 'mqtt', state, stage: state, progress: null, model: null, previous: null, startedAt: '', updatedAt: '', seq: 3, ...(error ? { error } : {}) }) as const;
const health = (status: string, model: { name: string; version: string } | null) => ({
  v: 1, ts: '2027-01-01T00:00:00.000Z', status, reasons: [],
  system: { disk: { freeBytes: 5_000_000_000 } },
  agent: { model: model ? { ...model, state: 'ready' } : null, plugin: null },
});

t.test('worst errors: grouped by code, most devices first, one example each', async (t) => {
  const v = (id: string, code: string | undefined, outcome: DeviceView['outcome'] = 'failure'): DeviceView => ({
    id, wave: 0, status: outcome === 'failure' ? 'failed' : 'succeeded', outcome, state: 'failed', ...(code ? { code, reason: `${code}: boom on ${id}` } : {}),
  });
  const groups = summarizeErrors([v('a', 'ENGINE_FAILED'), v('b', 'WARMUP_FAILED'), v('c', 'ENGINE_FAILED'), v('d', undefined), v('e', 'X', 'success'), v('f', 'FLEET_DEVICE_TIMED_OUT')]);
  t.same(groups, [
    { code: 'ENGINE_FAILED', devices: 2, example: { id: 'a', message: 'boom on a' } },
    { code: 'FAILED', devices: 1, example: { id: 'd', message: 'failed' } },
    { code: 'FLEET_DEVICE_TIMED_OUT', devices: 1, example: { id: 'f', message: 'boom on f' } },
    { code: 'WARMUP_FAILED', devices: 1, example: { id: 'b', message: 'boom on b' } },
  ]);
  t.equal(summarizeErrors([v('a', 'A'), v('b', 'B'), v('c', 'C')], 2).length, 2, 'bounded');
});

t.test('rollback judged by what the device serves afterwards, not by "ok"', async (t) => {
  const dep = { id: 'det-2', model: { name: 'det', version: '2' } };
  const ok = (data: unknown) => ({ v: 1 as const, transaction: 'x', status: 'ok' as const, data });
  const j = (p: Parameters<typeof judgeRollback>[0]) => judgeRollback(p, dep, '2m');
  t.match(j({ id: 'a', online: true, before: report('det-2', 'active'), response: ok({ name: 'det', version: '1' }) }), { result: 'rolled_back', ok: true, message: 'rolled back: serves det 1 (was det 2)' });
  t.match(j({ id: 'b', online: true, before: report('det-3', 'failed'), response: ok({ name: 'det', version: '2' }) }), { result: 'still_serving', ok: false, message: /STILL SERVES det 2/ }, 'the bug: "ok" while the rolled-back model serves');
  t.match(j({ id: 'c', online: true, before: report('det-2', 'failed', { code: 'ENGINE_FAILED', message: 'x' }), response: ok({ name: 'det', version: '1' }) }), { result: 'unchanged', ok: true, message: 'nothing to undo (its copy ended failed ENGINE_FAILED): serves det 1' });
  t.match(j({ id: 'd', online: true, before: report('det-2', 'warming'), response: ok({ serving: { name: 'det', version: '1' }, outcome: 'canceled' }) }), { result: 'canceled', ok: true });
  t.match(j({ id: 'e', online: false, response: null }), { result: 'pending', ok: true });
  t.match(j({ id: 'f', online: true, response: null }), { result: 'no_answer', ok: false, message: /within 2m/ });
  t.match(j({ id: 'g', online: true, response: { v: 1, transaction: 'x', status: 'error', error: { code: 'NO_PREVIOUS_MODEL', message: 'none' } } }), { result: 'error', ok: false, code: 'NO_PREVIOUS_MODEL' });
  t.match(j({ id: 'h', online: true, response: ok(null) }), { result: 'no_model', ok: false });
  const rows = ['a', 'b', 'e'].map((id) => j({ id, online: id !== 'e', before: report('det-2', 'active'), response: id === 'e' ? null : ok({ name: 'det', version: id === 'a' ? '1' : '2' }) }));
  t.equal(rollbackCounts(rows), '1 rolled back, 1 pending (offline), 1 STILL SERVING the rolled-back model');
});

t.test('drift: desired vs actual', async (t) => {
  const want = { deploymentId: 'det-2', model: { name: 'det', version: '2' }, sequence: 1 };
  t.same(driftOf(null, { name: 'det', version: '1' }, undefined), { drift: 'none', reason: null });
  t.same(driftOf(want, { name: 'det', version: '2' }, report('det-2', 'active')), { drift: 'in-sync', reason: null });
  t.same(driftOf(want, { name: 'det', version: '1' }, report('det-2', 'warming')), { drift: 'updating', reason: 'det-2 warming' });
  t.same(driftOf(want, { name: 'det', version: '1' }, report('det-2', 'failed', { code: 'ENGINE_FAILED', message: '' })), { drift: 'drift', reason: 'wants det 2: det-2 ended failed ENGINE_FAILED' });
  t.same(driftOf(want, { name: 'det', version: '1' }, report('det-2', 'active')), { drift: 'drift', reason: 'wants det 2: det-2 reported active, but it serves det 1' });
  t.same(driftOf(want, null, undefined), { drift: 'unknown', reason: 'no health report names the model it serves' });
});

t.test('devices: offline shows offline, group desired, filters, and the JSON is a devices file', async (t) => {
  const v = new FleetView(P);
  const board = { isJetson: true, model: 'Orin', soc: 'tegra234', jetpack: '5.1.2', tensorrt: '8.5.2', cudaArch: 87 };
  const put = (id: string, kind: string, body: unknown): void => void v.handle(`${P}/devices/${id}/${kind}`, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), 1);
  put('a', 'status', { v: 1, state: 'online', board, groups: ['lab'], ts: '2027-01-01T00:00:00.000Z' });
  put('a', 'health', health('ok', { name: 'det', version: '2' }));
  put('a', 'desired', envelope('det-2', '2'));
  put('a', 'deployment', report('det-2', 'active'));
  put('b', 'status', { v: 1, state: 'offline', reason: 'will', board, groups: ['lab'] });
  put('b', 'health', health('ok', { name: 'det', version: '1' }));
  v.handle(`${P}/groups/lab/desired`, Buffer.from(envelope('det-2', '2')), 1);
  const rows = deviceRows(v);
  t.match(rows[0], { id: 'a', health: 'ok', desired: { deploymentId: 'det-2', source: 'device' }, drift: 'in-sync' });
  t.match(rows[1], { id: 'b', online: false, health: 'offline', lastHealth: 'ok', desired: { source: 'group:lab' }, actual: { name: 'det', version: '1' }, drift: 'drift' });
  t.same(deviceRows(v, { drift: true }).map((r) => r.id), ['b']);
  t.same(deviceRows(v, { state: 'offline' }).map((r) => r.id), ['b']);
  t.same(deviceRows(v, { state: 'active' }).map((r) => r.id), ['a']);
  t.same(deviceRows(v, { group: 'other' }), []);
  const parsed = parseDevicesFile(JSON.stringify({ devices: rows }), 'devices --json');
  t.same(parsed.map((d) => [d.id, d.online, d.board.cudaArch, d.freeDiskBytes]), [['a', true, 87, 5_000_000_000], ['b', false, 87, 5_000_000_000]], 'devices --json is a valid --devices-file');
});

t.test('rollout list rows: newest first, worst error, orphaned running rollouts', async (t) => {
  const rec = (id: string, createdAt: string, phase: 'running' | 'done', heartbeatAt: string): RolloutRecord =>
    ({
      v: 1, deploymentId: id, target: 'all', createdAt, updatedAt: createdAt, envelope: { payload: '', signature: '', keyId: '' },
      plan: { deploymentId: id, waves: [['a'], ['b']], policy: {} as never }, progress: { phase, wave: 1, waveStartedAt: 0, notifiedInWave: 1, timedOut: {} },
      skipped: [], previous: { envelopes: {}, byDevice: {} }, rolledBack: [], counts: null, decision: '', writer: { clientId: 'c', heartbeatAt },
      errors: [{ code: 'ENGINE_FAILED', devices: 3, example: { id: 'a', message: 'm' } }],
    });
  const now = Date.parse('2027-01-01T01:00:00Z');
  const rows = rolloutListRows([rec('old', '2027-01-01T00:00:00Z', 'done', '2027-01-01T00:00:00Z'), rec('new', '2027-01-01T00:30:00Z', 'running', '2027-01-01T00:30:00Z')], now);
  t.same(rows.map((r) => [r.deploymentId, r.wave, r.worstError, r.orphaned]), [['new', '2/2', 'ENGINE_FAILED ×3', true], ['old', '2/2', 'ENGINE_FAILED ×3', false]]);
});

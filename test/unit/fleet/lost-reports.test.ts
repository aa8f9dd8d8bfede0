import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { FleetSession } from '../../../agent/src/fleet/fleet-session.js';
import { runRollout } from '../../../agent/src/fleet/runner.js';
import { initialProgress } from '../../../agent/src/fleet/reducer.js';
import { ROLLOUT_RECORD_VERSION, type RolloutRecord } from '../../../agent/src/fleet/rollout-record.js';
import type { RolloutPolicy } from '../../../agent/src/fleet/types.js';
import { MemoryBroker } from '../../helpers/memory-bus.js';

/**
 * A broker that drops messages to a slow subscriber (mosquitto's per-client queue,
 * docs/fleet-scale.md) must not leave the rollout waiting for reports it will never get: the
 * controller re-reads the retained reports of the devices still without an outcome after a
 * `seq` gap, and before the wave deadline would time them out.
 */
const P = 'jetson/v1';
const IDS = ['a', 'b', 'c'];
const STATES = ['received', 'downloading', 'verifying', 'converting', 'warming', 'activating', 'probation', 'active'] as const;
const key = generateKeyPairSync('ed25519').privateKey;

function record(policy: RolloutPolicy, now: number): RolloutRecord {
  return {
    v: ROLLOUT_RECORD_VERSION, deploymentId: 'dep-1', target: 'all', createdAt: new Date(now).toISOString(), updatedAt: new Date(now).toISOString(),
    envelope: { payload: Buffer.from('{}').toString('base64'), signature: 'x', keyId: 'k' },
    plan: { deploymentId: 'dep-1', waves: [IDS], policy }, progress: initialProgress(now), skipped: [],
    previous: { envelopes: {}, byDevice: {} }, rolledBack: [], counts: null, decision: 'starting', writer: { clientId: 'x', heartbeatAt: new Date(now).toISOString() },
  };
}

/** Devices that answer their desired with the eight reports of a good run, retained. */
async function devices(broker: MemoryBroker): Promise<void> {
  for (const id of IDS) broker.publish(`${P}/devices/${id}/status`, JSON.stringify({ v: 1, state: 'online', groups: ['lab'] }), true);
  const dev = await broker.connect({ clientId: 'devices' });
  dev.onMessage((topic, payload) => {
    const id = topic.split('/')[3] ?? '';
    if (!topic.endsWith('/desired') || payload.length === 0) return;
    void (async () => {
      for (const [i, state] of STATES.entries()) {
        await new Promise((r) => setImmediate(r));
        const rep = { v: 1, deploymentId: 'dep-1', source: 'mqtt', state, stage: state, progress: null, model: null, previous: null, startedAt: '', updatedAt: '', seq: i + 1 };
        broker.publish(`${P}/devices/${id}/deployment`, JSON.stringify(rep), true);
      }
    })();
  });
  await dev.subscribe([`${P}/devices/+/desired`]);
}

const seqOf = (payload: Buffer): number => (JSON.parse(payload.toString()) as { seq: number }).seq;
const isController = (clientId: string): boolean => clientId.startsWith('jetson-fleet-');

t.test('a seq gap makes the controller re-read the reports it lost', async (t) => {
  const broker = new MemoryBroker();
  await devices(broker);
  // a loses seq 2 (a visible gap); b loses its final `active` (invisible on its own).
  broker.drop = (client, topic, payload) =>
    isController(client) && topic.endsWith('/deployment') && ((topic.includes('/a/') && seqOf(payload) === 2) || (topic.includes('/b/') && seqOf(payload) === 8));
  const session = await FleetSession.open(broker.connect, P, { devices: true, rollout: 'dep-1' });
  t.teardown(() => session.close());
  const policy: RolloutPolicy = { maxFailures: { kind: 'count', count: 0 }, healthGateMs: 0, waveTimeoutMs: 600_000 };
  const out = await runRollout(session, record(policy, Date.now()), { key, signal: AbortSignal.timeout(20_000) });
  t.match(out, { progress: { phase: 'done' }, counts: { succeeded: 3, timedOut: 0 } }, 'b is seen active without waiting for the 10-minute wave deadline');
  t.ok(session.view.gaps >= 1, 'the gap was noticed');
  t.ok(broker.subscribes.some((s) => isController(s.clientId) && s.filters.includes(`${P}/devices/b/deployment`)), 'b was read again');
});

t.test('before the wave deadline, devices without an outcome are read again instead of timed out', {
  todo: 'fails on main: with no gap, the lost final report is not read again before a 2 s wave deadline and b times out (issue #17, 10,000-device work still open)',
}, async (t) => {
  const broker = new MemoryBroker();
  await devices(broker);
  // Only b's final report is lost: no gap anywhere.
  broker.drop = (client, topic, payload) => isController(client) && topic.includes('/b/deployment') && seqOf(payload) === 8;
  const session = await FleetSession.open(broker.connect, P, { devices: true, rollout: 'dep-1' });
  t.teardown(() => session.close());
  const policy: RolloutPolicy = { maxFailures: { kind: 'count', count: 0 }, healthGateMs: 0, waveTimeoutMs: 2000 };
  const out = await runRollout(session, record(policy, Date.now()), { key, signal: AbortSignal.timeout(20_000) });
  t.match(out, { progress: { phase: 'done', timedOut: {} }, counts: { succeeded: 3, timedOut: 0 } });
  t.equal(session.view.gaps, 0);
});

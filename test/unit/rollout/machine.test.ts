import t from 'tap';
import {
  EMPTY_MEMORY,
  admit,
  canTransition,
  compareVersions,
  deadlinesFor,
  failureOutcome,
  newRecord,
  remember,
  resumePlan,
  toReport,
  transition,
  type StateDeadlines,
} from '../../../agent/src/rollout/machine.js';
import type { DeploymentManifest } from '../../../agent/src/core/contracts/manifest.js';

const D: StateDeadlines = { received: 10, downloading: 100, verifying: 10, converting: 1000, warming: 10, activating: 10, probation: 5 };
const NOW = Date.parse('2026-11-27T12:00:00Z');
const orin = { board: { soc: 'tegra234', cudaArch: 87, tensorrt: '8.5.2', jetpack: '5.1.1' }, freeDiskBytes: 5e9 };

function m(over: Partial<DeploymentManifest> = {}): DeploymentManifest {
  return {
    v: 1,
    deploymentId: 'd1',
    issuedAt: '2026-11-27T11:00:00Z',
    expiresAt: '2026-11-27T13:00:00Z',
    sequence: 5,
    package: { url: 'https://x/p', sha256: 'a'.repeat(64), size: 1000 },
    model: { name: 'det', version: '1' },
    ...over,
  };
}

t.test('admission: accept, duplicate ignored, expired, replayed, incompatible', async (t) => {
  t.same(admit(EMPTY_MEMORY, m(), NOW, orin), { verdict: 'accept' });
  const mem = { ...EMPTY_MEMORY, highestSequence: 5, workedIds: ['d1'] };
  t.equal(admit(mem, m(), NOW, orin).verdict, 'ignore');
  t.match(admit(mem, m({ deploymentId: 'd2' }), NOW, orin), { verdict: 'reject', code: 'MANIFEST_REPLAYED' });
  t.match(admit(mem, m({ deploymentId: 'd2', sequence: 4 }), NOW, orin), { verdict: 'reject', code: 'MANIFEST_REPLAYED' });
  t.match(admit(EMPTY_MEMORY, m({ expiresAt: '2026-11-27T12:00:00Z' }), NOW, orin), { code: 'MANIFEST_EXPIRED' });
  t.match(admit(EMPTY_MEMORY, m({ expiresAt: 'soon' }), NOW, orin), { code: 'MANIFEST_INVALID' });
  const inc = (requires: DeploymentManifest['requires']) => admit(EMPTY_MEMORY, m({ requires }), NOW, orin);
  t.same(inc({ socs: ['tegra234'], cudaArchs: [87], tensorrt: { min: '8.5', max: '9' }, jetpack: { min: '5' } }), { verdict: 'accept' });
  t.match(inc({ socs: ['tegra210'] }), { code: 'MANIFEST_INCOMPATIBLE', message: /SoC tegra234/ });
  t.match(inc({ cudaArchs: [53, 62] }), { code: 'MANIFEST_INCOMPATIBLE', message: /CUDA arch 87/ });
  t.match(inc({ tensorrt: { max: '8.5' } }), { message: /TensorRT 8\.5\.2 is outside \[\*, 8\.5\)/ });
  t.match(inc({ jetpack: { min: '6.0' } }), { message: /JetPack 5\.1\.1/ });
  t.match(inc({ minFreeDiskBytes: 5e9 }), { message: /bytes free/ });
  const laptop = { board: { soc: null, cudaArch: null, tensorrt: null, jetpack: null }, freeDiskBytes: 5e9 };
  t.match(admit(EMPTY_MEMORY, m({ requires: { tensorrt: { min: '8' } } }), NOW, laptop), { message: /TensorRT none/ });
  t.same(admit(EMPTY_MEMORY, m({ requires: { socs: ['none'] } }), NOW, laptop), { verdict: 'accept' });
});

t.test('admission: a model needing a plugin TensorRT 11 removed is refused on a TensorRT 11 board, with the fix', async (t) => {
  const thor = { board: { soc: 'tegra264', cudaArch: 110, tensorrt: '11.0.0', jetpack: '7.2' }, freeDiskBytes: 5e9 };
  const needs = m({ requires: { plugins: ['BatchedNMS_TRT', 'BatchTilePlugin_TRT', 'ResizeNearest_TRT'] } });
  const r = admit(EMPTY_MEMORY, needs, NOW, thor);
  t.same(r, {
    verdict: 'reject',
    code: 'TENSORRT_PLUGIN_REMOVED',
    message:
      'The model needs BatchedNMS_TRT, BatchTilePlugin_TRT, which TensorRT 11.0.0 on this board does not have (removed in TensorRT 11). ' +
      'Re-export the model with EfficientNMS (EfficientNMS_TRT, still in TensorRT 11) instead of BatchedNMS, or keep this model on boards with TensorRT 10 (JetPack 6) or older.',
  });
  t.same(admit(EMPTY_MEMORY, needs, NOW, orin), { verdict: 'accept' }, 'TensorRT 8.5 has them');
  t.same(admit(EMPTY_MEMORY, m({ requires: { plugins: ['ResizeNearest_TRT', 'EfficientNMS_TRT'] } }), NOW, thor), { verdict: 'accept' }, 'plugins 11 kept');
  t.same(admit(EMPTY_MEMORY, m(), NOW, thor), { verdict: 'accept' }, 'a manifest without requires.plugins is not judged');
});

t.test('versions compare numerically', async (t) => {
  t.equal(compareVersions('8.10', '8.9'), 1);
  t.equal(compareVersions('8.5', '8.5.0'), 0);
  t.equal(compareVersions('10', '9.9.9'), 1);
});

t.test('transitions: deadlines per state, seq, terminal has no deadline, illegal moves throw', async (t) => {
  let r = newRecord({ deploymentId: 'd1', source: 'mqtt', manifest: m(), model: { name: 'det', version: '1' }, previous: null, now: NOW, deadlines: D });
  t.equal(r.deadlineAt, new Date(NOW + 10_000).toISOString());
  r = transition(r, 'downloading', NOW + 1000, D);
  t.equal(r.seq, 2);
  t.equal(r.deadlineAt, new Date(NOW + 101_000).toISOString());
  t.throws(() => transition(r, 'active', NOW, D), /illegal/);
  const f = transition(r, 'failed', NOW + 2000, D, { error: { code: 'DOWNLOAD_FAILED', message: 'x' } });
  t.equal(f.deadlineAt, undefined);
  t.equal(toReport(f).error?.code, 'DOWNLOAD_FAILED');
  t.ok(canTransition('active', 'rolled_back'), 'a rollback request undoes an active deployment');
  t.notOk(canTransition('active', 'failed'), 'otherwise active is final');
  t.notOk(canTransition('rolled_back', 'active'), 'and so is every other terminal state');
  t.notOk(canTransition('downloading', 'rolled_back'), 'nothing to roll back before activation');
  t.equal(failureOutcome('converting'), 'failed');
  t.equal(failureOutcome('probation'), 'rolled_back');
  const mem = remember(remember(EMPTY_MEMORY, r), f);
  t.same([mem.current, mem.lastTerminal?.state, mem.workedIds, mem.highestSequence], [null, 'failed', ['d1'], 5]);
});

t.test('per-manifest deadlines and probation', async (t) => {
  const d = deadlinesFor(D, m({ policy: { deadlines: { downloadSec: 7 } } }), 60);
  t.equal(d.downloading, 7);
  t.equal(d.probation, 65, 'probation + grace');
});

t.test('resume after restart: within deadline resumes, past it ends by activation side', async (t) => {
  let r = newRecord({ deploymentId: 'd1', source: 'mqtt', manifest: m(), model: null, previous: null, now: NOW, deadlines: D });
  r = transition(transition(transition(r, 'downloading', NOW, D), 'verifying', NOW, D), 'converting', NOW, D);
  t.same(resumePlan(r, NOW + 5000), { action: 'resume', from: 'converting' });
  t.same(resumePlan(r, NOW + 2_000_000), { action: 'expire', outcome: 'failed' });
  const p = transition(transition(transition(r, 'warming', NOW, D), 'activating', NOW, D), 'probation', NOW, D);
  t.same(resumePlan(p, NOW + 60_000), { action: 'expire', outcome: 'rolled_back' });
});

t.test('a rejected manifest does not move the anti-replay counter; an accepted one does', async (t) => {
  // The executor records a rejection as a record that goes received → rejected in one commit.
  const rejectedRec = transition(newRecord({ deploymentId: 'inc-9', source: 'mqtt', manifest: m({ deploymentId: 'inc-9', sequence: 9 }), model: null, previous: null, now: NOW, deadlines: D }), 'rejected', NOW, D, {
    error: { code: 'MANIFEST_INCOMPATIBLE', message: 'SoC' },
  });
  const afterReject = remember(EMPTY_MEMORY, rejectedRec);
  t.equal(afterReject.highestSequence, 0, 'an INCOMPATIBLE manifest with sequence 9 leaves the counter at 0');
  t.same(afterReject.workedIds, ['inc-9'], 'its id is still never worked twice');
  t.same(admit(afterReject, m({ deploymentId: 'ok-5', sequence: 5 }), NOW, orin), { verdict: 'accept' }, 'a valid manifest with an earlier sequence is accepted');
  const accepted = remember(afterReject, newRecord({ deploymentId: 'ok-5', source: 'mqtt', manifest: m({ deploymentId: 'ok-5', sequence: 5 }), model: null, previous: null, now: NOW, deadlines: D }));
  t.equal(accepted.highestSequence, 5, 'accepted (received) → the counter moves');
  const failed = remember(accepted, transition(accepted.current!, 'downloading', NOW, D));
  t.equal(remember(failed, transition(failed.current!, 'failed', NOW, D)).highestSequence, 5, 'a later failure keeps it: the manifest was accepted');
  t.match(admit(accepted, m({ deploymentId: 'old-4', sequence: 4 }), NOW, orin), { code: 'MANIFEST_REPLAYED' });
});

import t from 'tap';
import { FleetView } from '../../../agent/src/fleet/fleet-view.js';
import { picked } from '../../../agent/src/fleet/simulator/fleet.js';

const P = 'jetson/v1';
const rep = (state: string, seq: number, id = 'd1'): Buffer => Buffer.from(JSON.stringify({ v: 1, deploymentId: id, source: 'mqtt', state, stage: state, progress: null, model: null, previous: null, startedAt: '', updatedAt: '', seq }));

t.test('deployment reports: older seq dropped, state time is the controller clock of the first sighting', async (t) => {
  const v = new FleetView(P);
  v.handle(`${P}/devices/a/deployment`, rep('downloading', 2), 1000);
  v.handle(`${P}/devices/a/deployment`, rep('received', 1), 2000); // late, older: dropped
  t.equal(v.observation('a').report?.state, 'downloading');
  v.handle(`${P}/devices/a/deployment`, rep('downloading', 2), 3000); // repeat: since unchanged
  t.equal(v.observation('a').report?.since, 1000);
  v.handle(`${P}/devices/a/deployment`, rep('active', 8), 4000);
  t.same(v.observation('a').report, { deploymentId: 'd1', state: 'active', since: 4000 });
  v.handle(`${P}/devices/a/deployment`, rep('received', 1, 'd2'), 5000); // a new deployment restarts seq
  t.equal(v.observation('a').report?.deploymentId, 'd2');
  t.equal(v.handle(`${P}/devices/a/deployment`, Buffer.from('{not json'), 6000), null, 'malformed: ignored');
  t.equal(v.handle(`${P}/devices/a/deployment`, Buffer.alloc(0), 7000), 'a');
  t.equal(v.observation('a').report, undefined, 'an empty retained message clears it');
});

t.test('status gives online, groups and board; offline status keeps the device targetable', async (t) => {
  const v = new FleetView(P);
  const board = { isJetson: true, model: 'Orin', soc: 'tegra234', jetpack: '5.1.2', tensorrt: '8.5.2', cudaArch: 87 };
  v.handle(`${P}/devices/b/status`, Buffer.from(JSON.stringify({ v: 1, state: 'offline', reason: 'will', board, groups: ['lab'] })), 10);
  const r = v.record('b');
  t.same([r.online, r.groups, r.board], [false, ['lab'], { soc: 'tegra234', cudaArch: 87, tensorrt: '8.5.2', jetpack: '5.1.2' }]);
  t.equal(v.observation('b').online, false);
});

t.test('simulator failure picks: exactly round(n × rate), evenly spread, never the canary', async (t) => {
  const count = (n: number, rate: number): number => Array.from({ length: n }, (_, i) => picked(i, rate)).filter(Boolean).length;
  t.equal(count(1000, 0.02), 20);
  t.equal(count(1000, 0.2), 200);
  t.equal(count(10, 0), 0);
  t.notOk(picked(0, 1), 'device 0 never fails');
});

t.test('simulator fd check reads the soft open-files limit', async (t) => {
  const { parseOpenFilesLimit } = await import('../../../agent/src/fleet/simulator/fd-limit.js');
  const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
  t.equal(parseOpenFilesLimit(text), 1024);
  t.equal(parseOpenFilesLimit('Max open files            unlimited            unlimited            files\n'), undefined);
  t.equal(parseOpenFilesLimit(''), undefined);
});

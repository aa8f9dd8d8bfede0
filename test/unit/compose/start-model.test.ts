import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../../agent/src/core/log.js';
import { readServing, recordsAtStart, servingRecorder, startCandidates, type ServingRecord } from '../../../agent/src/compose/start-model.js';

const demo = { name: 'demo-yolov3', version: 'generated-1' };
const rec = (name: string, version: string, configured = ''): ServingRecord => ({ v: 1, name, version, configured, at: '2026-01-01T00:00:00.000Z' });
const names = (c: { name: string; version: string; source: string }[]): string[] => c.map((x) => `${x.source}:${x.name}@${x.version}`);

t.test('the model that served last comes first; the configured or demo model is the fallback', async (t) => {
  t.same(names(startCandidates(undefined, '', demo)), ['demo:demo-yolov3@generated-1'], 'first start: the demo model');
  t.same(names(startCandidates(undefined, 'det@1.0', demo)), ['configured:det@1.0']);
  t.same(names(startCandidates(rec('small', '2.0.0'), '', demo)), ['recorded:small@2.0.0', 'demo:demo-yolov3@generated-1'], 'a deployed model survives a restart');
  t.same(names(startCandidates(rec('small', '2.0.0', 'det@1.0'), 'det@1.0', null)), ['recorded:small@2.0.0', 'configured:det@1.0']);
  t.same(names(startCandidates(rec('det', '1.0', 'det@1.0'), 'det@1.0', demo)), ['recorded:det@1.0'], 'no duplicate candidates');
  t.same(names(startCandidates(rec('small', '2.0.0', ''), '', null)), ['recorded:small@2.0.0'], 'demo model disabled');
  t.same(startCandidates(undefined, '', null), [], 'nothing to start');
});

t.test('a config edit since the last switch is the newer decision', async (t) => {
  t.same(names(startCandidates(rec('small', '2.0.0', 'det@1.0'), 'det@2.0', demo)), ['configured:det@2.0']);
  t.same(names(startCandidates(rec('small', '2.0.0', 'det@1.0'), '', demo)), ['demo:demo-yolov3@generated-1'], 'inference.model cleared');
});

t.test('a deployment in flight: start with the model that served before it (the resume switches again)', async (t) => {
  const inFlight = { previous: { name: 'small', version: '3.0.0' } };
  t.same(names(startCandidates(rec('small', '4.0.0'), '', demo, inFlight)), ['before-deployment:small@3.0.0', 'recorded:small@4.0.0', 'demo:demo-yolov3@generated-1']);
  t.same(names(startCandidates(rec('small', '3.0.0'), '', demo, { previous: null })), ['recorded:small@3.0.0', 'demo:demo-yolov3@generated-1'], 'no previous: as without a deployment');
});

t.test('a fallback that starts because an earlier candidate failed does not replace the record', async (t) => {
  const deployed = startCandidates(rec('small', '2.0.0', 'det@1.0'), 'det@1.0', demo);
  t.same(deployed.map((_, i) => recordsAtStart(deployed, i)), [true, false], 'recorded writes; the configured fallback does not');
  const resumed = startCandidates(rec('small', '4.0.0'), '', demo, { previous: { name: 'small', version: '3.0.0' } });
  t.same(resumed.map((_, i) => recordsAtStart(resumed, i)), [true, true, false], 'before-deployment and recorded write; demo does not');
  const first = startCandidates(undefined, 'det@1.0', demo);
  t.same(first.map((_, i) => recordsAtStart(first, i)), [true], 'first start: the configured model is recorded');
});

t.test('the recorder writes every switch in order; unreadable or malformed records are ignored', async (t) => {
  const dir = t.testdir({ 'bad.json': '{"v":1,"name":3}', 'junk.json': 'not json' });
  const file = path.join(dir, 'models', 'serving.json');
  const record = servingRecorder(file, 'det@1.0', silentLogger, () => Date.parse('2026-02-03T04:05:06Z'));
  t.equal(await readServing(file, silentLogger), undefined, 'nothing recorded yet');
  void record({ name: 'a', version: '1' });
  await record({ name: 'b', version: '2' });
  t.match(readFileSync(file, 'utf8'), /"name": "b"/, 'the later switch wins');
  t.same(await readServing(file, silentLogger), { v: 1, name: 'b', version: '2', configured: 'det@1.0', at: '2026-02-03T04:05:06.000Z' });
  t.equal(await readServing(path.join(dir, 'bad.json'), silentLogger), undefined);
  t.equal(await readServing(path.join(dir, 'junk.json'), silentLogger), undefined);
});

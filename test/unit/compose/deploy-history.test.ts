import t from 'tap';
import path from 'node:path';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { silentLogger } from '../../../agent/src/core/log.js';
import { HISTORY_MAX_ENTRIES } from '../../../agent/src/core/contracts/history.js';
import { DeploymentHistory, historyFile } from '../../../agent/src/compose/deploy-history.js';

const report = (id: string, state: string, extra: object = {}) =>
  ({ deploymentId: id, source: 'mqtt', state, model: { name: 'm', version: '2' }, previous: { name: 'm', version: '1' }, updatedAt: '2026-01-01T00:00:00.000Z', ...extra }) as Parameters<DeploymentHistory['report']>[0];

t.test('terminal reports are recorded once (the last report is re-sent after reconnects), non-terminal ones never', async (t) => {
  const dir = t.testdir();
  const h = new DeploymentHistory(historyFile(dir), silentLogger);
  await h.report(report('d1', 'converting'));
  t.same(await h.read(), []);
  await h.report(report('d1', 'rolled_back', { error: { code: 'DEPLOYMENT_PROBATION_FAILED', message: 'error rate 0.4 > 0.05' } }));
  await h.report(report('d1', 'rolled_back', { error: { code: 'DEPLOYMENT_PROBATION_FAILED', message: 'error rate 0.4 > 0.05' } }));
  await h.record({ at: '2026-01-01T00:01:00.000Z', kind: 'switch', model: { name: 'm', version: '1' }, previous: null });
  const all = await h.read();
  t.equal(all.length, 2);
  t.match(all[0], { kind: 'deployment', deploymentId: 'd1', state: 'rolled_back', error: { code: 'DEPLOYMENT_PROBATION_FAILED' } });
  t.match(all[1], { kind: 'switch', model: { version: '1' } });
  t.match(JSON.parse(readFileSync(path.join(dir, 'deployments', 'history.json'), 'utf8')), { v: 1 });
});

t.test('the file keeps the newest entries only', async (t) => {
  const h = new DeploymentHistory(historyFile(t.testdir()), silentLogger);
  const writes = [];
  for (let i = 0; i < HISTORY_MAX_ENTRIES + 5; i++) writes.push(h.report(report(`d${i}`, 'active')));
  await Promise.all(writes);
  const all = await h.read();
  t.equal(all.length, HISTORY_MAX_ENTRIES);
  t.equal(all[0]?.deploymentId, 'd5');
  t.equal(all.at(-1)?.deploymentId, `d${HISTORY_MAX_ENTRIES + 4}`);
});

t.test('a malformed file reads as empty and is replaced by the next write', async (t) => {
  const dir = t.testdir();
  mkdirSync(path.join(dir, 'deployments'));
  writeFileSync(path.join(dir, 'deployments', 'history.json'), JSON.stringify({ v: 1, entries: [{ at: 1 }] }));
  const h = new DeploymentHistory(historyFile(dir), silentLogger);
  t.same(await h.read(), []);
  await h.report(report('d9', 'failed'));
  t.match(await h.read(), [{ deploymentId: 'd9', state: 'failed' }]);
});

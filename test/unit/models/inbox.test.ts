import t from 'tap';
import { existsSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Inbox, type LocalDeploymentEnd } from '../../../agent/src/models/inbox.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import { listPackages } from '../../../agent/src/models/store.js';
import { silentLogger } from '../../../agent/src/core/log.js';
import { sha256 } from '../../../agent/src/platform/fs.js';
import type { Clock } from '../../../agent/src/platform/clock.js';
import { rawTar } from '../../helpers/raw-tar.js';
import { manifestFor, ONNX_BYTES } from '../../helpers/model-package.js';

/** Time stands still; the test drives polls itself. */
const manualClock: Clock = {
  now: () => Date.parse('2026-01-02T03:04:05Z'),
  setTimeout: () => setTimeout(() => undefined, 0),
  clearTimeout: () => undefined,
  setInterval: () => setTimeout(() => undefined, 0),
  clearInterval: () => undefined,
};

const pkg = (version: string): Buffer =>
  rawTar([
    { name: 'model.json', body: JSON.stringify(manifestFor({ version })) },
    { name: 'model.onnx', body: ONNX_BYTES },
  ]);

t.test('inbox takes stable packages, checks sidecars, moves rejects aside with a reason', async (t) => {
  const stateDir = t.testdir({ inbox: {} });
  const inbox = path.join(stateDir, 'inbox');
  const stored: string[] = [];
  const box = new Inbox({ stateDir, pollSec: 5, maxBytes: 1 << 24, log: silentLogger, clock: manualClock, onStored: (p) => stored.push(p.version) });

  const good = pkg('1.0.0');
  writeFileSync(path.join(inbox, 'good.tar'), good);
  writeFileSync(path.join(inbox, 'good.tar.sha256'), `${sha256(good)}  good.tar\n`);
  writeFileSync(path.join(inbox, 'bad-sum.tar'), pkg('2.0.0'));
  writeFileSync(path.join(inbox, 'bad-sum.tar.sha256'), `${'0'.repeat(64)}\n`);
  writeFileSync(path.join(inbox, 'evil.tar'), rawTar([{ name: '../../escape', body: 'x' }]));
  writeFileSync(path.join(inbox, 'nosidecar.tar'), pkg('3.0.0'));

  await box.start(); // first look: files are new, not yet taken
  t.same(await listPackages(stateDir), [], 'a file seen for the first time is left alone (may still be copying)');
  await box.poll();
  await box.stop();

  t.same((await listPackages(stateDir)).map((p) => p.version).sort(), ['1.0.0', '3.0.0']);
  t.same(stored.sort(), ['1.0.0', '3.0.0']);
  t.same(readdirSync(inbox).sort(), ['rejected'], 'taken and rejected files left the inbox');
  const rejected = readdirSync(path.join(inbox, 'rejected')).sort();
  t.same(rejected, ['bad-sum.tar', 'bad-sum.tar.reason.json', 'bad-sum.tar.sha256', 'evil.tar', 'evil.tar.reason.json']);
  const why = JSON.parse(readFileSync(path.join(inbox, 'rejected', 'bad-sum.tar.reason.json'), 'utf8')) as { code: string; at: string };
  t.equal(why.code, 'PACKAGE_SHA256_MISMATCH');
  t.equal(why.at, '2026-01-02T03:04:05.000Z');
  t.equal((JSON.parse(readFileSync(path.join(inbox, 'rejected', 'evil.tar.reason.json'), 'utf8')) as { code: string }).code, 'PACKAGE_UNSAFE');
  t.notOk(existsSync(path.join(stateDir, '..', 'escape')));
});

/** A deploy flow under the test's control: records hand-overs, ends each when told. */
class DeployFlow {
  readonly handed: string[] = [];
  private readonly ends = new Map<string, (e: LocalDeploymentEnd) => void>();
  private waiting: (() => void)[] = [];
  deploy = (file: string): Promise<LocalDeploymentEnd> => {
    this.handed.push(path.basename(file));
    this.waiting.splice(0).forEach((w) => w());
    return new Promise((resolve) => this.ends.set(path.basename(file), resolve));
  };
  /** Resolves once `n` packages were handed over. */
  async handedOver(n: number): Promise<void> {
    while (this.handed.length < n) await new Promise<void>((r) => this.waiting.push(r));
  }
  /** End a deployment; `consume` mimics the intake hook taking the package (compose/rollout-hooks.ts). */
  end(name: string, dir: string, state: string, consume: boolean, error?: { code: string; message: string }): void {
    if (consume) rmSync(path.join(dir, '.deploy', name));
    this.ends.get(name)?.({ deploymentId: `inbox-${name}`, state, ...(error ? { error } : {}) });
  }
}

t.test('deploy mode: packages dropped together are queued in drop order, one deployment at a time; none is lost', async (t) => {
  const stateDir = t.testdir({ inbox: {} });
  const inbox = path.join(stateDir, 'inbox');
  const flow = new DeployFlow();
  const box = new Inbox({ stateDir, pollSec: 5, maxBytes: 1 << 24, log: silentLogger, clock: manualClock, deploy: flow.deploy });
  const names = ['c.tar', 'a.tar', 'b.tar'];
  names.forEach((n, i) => {
    writeFileSync(path.join(inbox, n), pkg(`1.0.${i}`));
    utimesSync(path.join(inbox, n), 1_700_000_000 + i, 1_700_000_000 + i); // dropped c, a, b in that order
  });
  await box.start();
  await box.poll(); // first sight
  const pass = box.poll(); // stable now: the queue is worked
  await flow.handedOver(1);
  t.same(flow.handed, ['c.tar'], 'one at a time, the first dropped first');
  t.same(readdirSync(inbox).sort(), ['.deploy', 'a.tar', 'b.tar', 'rejected'], 'the others wait in the inbox, untouched');
  flow.end('c.tar', inbox, 'active', true);
  await flow.handedOver(2);
  t.same(flow.handed, ['c.tar', 'a.tar']);
  // The next one is superseded (e.g. by an MQTT desired) before its intake took the package.
  flow.end('a.tar', inbox, 'superseded', false, { code: 'DEPLOYMENT_SUPERSEDED', message: 'A newer desired replaced this deployment during received.' });
  await flow.handedOver(3);
  flow.end('b.tar', inbox, 'active', true);
  await pass;
  await box.stop();
  t.same(readdirSync(path.join(inbox, '.deploy')), [], 'nothing left in inbox/.deploy/');
  t.same(readdirSync(path.join(inbox, 'rejected')).sort(), ['a.tar', 'a.tar.reason.json']);
  const why = JSON.parse(readFileSync(path.join(inbox, 'rejected', 'a.tar.reason.json'), 'utf8')) as Record<string, unknown>;
  t.match(why, { code: 'DEPLOYMENT_SUPERSEDED', deploymentId: 'inbox-a.tar', state: 'superseded', message: /ended superseded before its intake: A newer desired/, hint: /again/ });
});

t.test('deploy mode: a failed hand-over and a leftover staged package both end in rejected/ with a reason', async (t) => {
  const stateDir = t.testdir({ inbox: { '.deploy': { 'stale.tar': 'x', 'resumed.tar': 'y' } } });
  const inbox = path.join(stateDir, 'inbox');
  writeFileSync(path.join(inbox, 'new.tar'), pkg('2.0.0'));
  let resumeEnd: (e: LocalDeploymentEnd) => void = () => undefined;
  let asked: () => void = () => undefined;
  const askedFor = new Promise<void>((r) => (asked = r));
  const box = new Inbox({
    stateDir, pollSec: 5, maxBytes: 1 << 24, log: silentLogger, clock: manualClock,
    deploy: () => Promise.reject(new AgentError('DEPLOYMENT_NOT_WIRED', 'The rollout executor is not running; the package was not deployed.')),
    // The executor resumed a deployment with resumed.tar; stale.tar belongs to nobody.
    deploymentOf: (file) => {
      if (path.basename(file) !== 'resumed.tar') return undefined;
      asked();
      return new Promise((r) => (resumeEnd = r));
    },
  });
  await box.start();
  await askedFor;
  resumeEnd({ deploymentId: 'inbox-r', state: 'failed', error: { code: 'DEPLOYMENT_TIMEOUT', message: 'The converting state passed its deadline while the agent was down.' } });
  await box.poll();
  await box.poll();
  await box.stop();
  t.same(readdirSync(path.join(inbox, '.deploy')), []);
  t.same(readdirSync(path.join(inbox, 'rejected')).sort(), ['new.tar', 'new.tar.reason.json', 'resumed.tar', 'resumed.tar.reason.json', 'stale.tar', 'stale.tar.reason.json']);
  const reason = (n: string) => JSON.parse(readFileSync(path.join(inbox, 'rejected', `${n}.reason.json`), 'utf8')) as Record<string, unknown>;
  t.match(reason('new.tar'), { code: 'DEPLOYMENT_NOT_WIRED' }, 'the staged file, not the (moved) inbox path, is rejected');
  t.match(reason('stale.tar'), { code: 'CANCELED', message: /agent stopped before the deployment took it/ });
  t.match(reason('resumed.tar'), { code: 'DEPLOYMENT_TIMEOUT', state: 'failed' });
});

t.test('deploy mode: stop() does not wait for a running deployment; its package stays staged for the resume', async (t) => {
  const stateDir = t.testdir({ inbox: {} });
  const inbox = path.join(stateDir, 'inbox');
  writeFileSync(path.join(inbox, 'long.tar'), pkg('3.0.0'));
  const flow = new DeployFlow();
  const box = new Inbox({ stateDir, pollSec: 5, maxBytes: 1 << 24, log: silentLogger, clock: manualClock, deploy: flow.deploy });
  await box.start();
  await box.poll();
  void box.poll();
  await flow.handedOver(1);
  await box.stop();
  t.same(readdirSync(path.join(inbox, '.deploy')), ['long.tar'], 'left for the deployment that resumes at the next start');
  t.same(readdirSync(path.join(inbox, 'rejected')), []);
});

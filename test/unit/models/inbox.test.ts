import t from 'tap';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Inbox } from '../../../agent/src/models/inbox.js';
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

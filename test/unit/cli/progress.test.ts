import t from 'tap';
import { ProgressLine, progressText, rateEta, shortDuration } from '../../../agent/src/cli/progress.js';
import { palette } from '../../../agent/src/cli/style.js';
import { progressParts } from '../../../agent/src/fleet/rollout-format.js';
import type { Output } from '../../../agent/src/cli/types.js';
import type { RolloutRecord } from '../../../agent/src/fleet/rollout-record.js';

const out = (errTTY: boolean, json = false): Output => ({
  json,
  isTTY: false,
  errTTY,
  color: palette(false),
  colorErr: palette(false),
  print: () => undefined,
  result: () => undefined,
  info: () => undefined,
  progress: () => undefined,
  fail: () => 1,
});

t.test('durations and the ETA at the rate so far', async (t) => {
  t.same([shortDuration(0), shortDuration(12_400), shortDuration(185_000), shortDuration(3_725_000)], ['0s', '12s', '3m05s', '1h02m']);
  t.equal(rateEta(0.25, 60_000), 180_000, 'a quarter done in a minute: three minutes to go');
  t.equal(rateEta(null, 60_000), null);
  t.equal(rateEta(0.005, 60_000), null, 'too early to say');
  t.equal(rateEta(1, 60_000), 0);
});

t.test('a progress line never reaches 80 columns, whatever the label and detail', async (t) => {
  const long = 'peoplenet-pruned-quantized-1.2.0-20271127T120000Z-with-a-very-long-suffix';
  for (const detail of ['', 'w2/4 ok 1234 fail 56 run 78 wait 9012', 'x'.repeat(300)]) {
    for (const fraction of [null, 0, 0.437, 1]) {
      const line = progressText({ label: long, fraction, detail }, 3_725_000, 80);
      t.ok(line.length < 80, `${line.length} columns: ${line}`);
      t.match(line, /1h02m/, 'elapsed is always there');
    }
  }
  t.equal(progressText({ label: 'convert yolo@1', fraction: 0.5, detail: 'building' }, 60_000), 'convert yolo@1 building [######......]  50% 1m00s ETA 1m00s');
  t.ok(progressText({ label: 'a', fraction: 0.5, detail: 'b' }, 60_000, 40).length < 40, 'a narrower terminal is honoured');
});

t.test('the rollout line of the issue (~290 characters) now fits', async (t) => {
  const rec = {
    deploymentId: 'peoplenet-1.2.0-20271127T120000Z',
    progress: { wave: 2, phase: 'running' },
    plan: { waves: [['a'], ['b'], ['c'], ['d']] },
    counts: { total: 1000, succeeded: 412, failed: 3, timedOut: 2, incompatible: 10, excluded: 0, pending: 100, inProgress: 73, queued: 400 },
    decision: 'wave 3: 412 of 1000 succeeded, waiting for the health gate (5m) before promoting',
  } as unknown as RolloutRecord;
  const p = progressParts(rec);
  t.equal(p.detail, 'w3/4 ok 412 fail 5 run 73 wait 500');
  t.equal(p.fraction, 417 / 990);
  const line = progressText({ label: rec.deploymentId, ...p, bar: false }, 600_000);
  t.ok(line.length < 80, line);
  t.equal(line, 'peoplenet-1.2.0-2027… w3/4 ok 412 fail 5 run 73 wait 500  42% 10m00s ETA 13m44s', 'every count whole, the id cut');
});

t.test('on a pipe: a line per stage or tenth, no carriage returns; on a TTY: redrawn in place; --json: silent', async (t) => {
  let now = 0;
  const pipe: string[] = [];
  const p = new ProgressLine(out(false), 'package x@1', { now: () => now, write: (s) => pipe.push(s) });
  p.update({ detail: 'copying', fraction: 0.01 });
  now = 1000;
  p.update({ fraction: 0.05 });
  p.update({ fraction: 0.12 });
  p.update({ detail: 'sha256', fraction: 0.9 });
  p.log('a warning');
  p.end({ fraction: 1, detail: 'done' });
  t.same(pipe, [
    'package x@1 copying [............]   1% 0s\n',
    'package x@1 copying [#...........]  12% 1s ETA 7s\n',
    'package x@1 sha256 [###########.]  90% 1s ETA 0s\n',
    'a warning\n',
    'package x@1 done [############] 100% 1s\n',
  ]);
  t.notOk(pipe.join('').includes('\r'));

  const tty: string[] = [];
  const q = new ProgressLine(out(true), 'convert m@1', { now: () => now, write: (s) => tty.push(s) });
  q.update({ detail: 'building', fraction: null });
  q.log('converter: 12 layers fused');
  q.end();
  t.equal(tty[0], '\r\u001b[Kconvert m@1 building 0s');
  t.equal(tty[1], '\r\x1b[K', 'the line is cleared before a log line');
  t.equal(tty[2], 'converter: 12 layers fused\n');
  t.match(tty.at(-1), /^\n$/);

  const silent: string[] = [];
  const s = new ProgressLine(out(true, true), 'x', { write: (x) => silent.push(x) });
  s.update({ fraction: 0.5, detail: 'y' });
  s.log('z');
  s.end();
  t.same(silent, []);
});

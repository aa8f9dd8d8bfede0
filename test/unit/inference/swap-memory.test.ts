import t from 'tap';
import { checkFits, MemoryLedger } from '../../../agent/src/inference/swap-memory.js';
import type { AgentError } from '../../../agent/src/core/errors.js';

const MiB = 1024 * 1024;

t.test('workspace: measured per model, else the serving model, else none', async (t) => {
  const l = new MemoryLedger();
  t.same(l.estimate('b@1/onnxruntime', 100 * MiB), { needBytes: 100 * MiB, modelBytes: 100 * MiB, workspaceBytes: 0, workspaceFrom: 'none measured' });
  const a = {};
  // MemAvailable fell by 350 MiB while a 200 MiB model loaded and warmed up: 150 MiB workspace.
  l.record(a, 'a@1/onnxruntime', 200 * MiB, 2000 * MiB, 1650 * MiB);
  t.same(l.estimate('b@1/onnxruntime', 100 * MiB), { needBytes: 250 * MiB, modelBytes: 100 * MiB, workspaceBytes: 150 * MiB, workspaceFrom: 'the serving model' });
  t.equal(l.estimate('a@1/onnxruntime', 200 * MiB).workspaceFrom, 'this model');
  t.equal(l.freedBy(a), 350 * MiB, 'unloading a frees what it took');
  t.equal(l.freedBy(null), 0);
});

t.test('a noisy or missing reading never makes the estimate negative; freed is at least the file size', async (t) => {
  const l = new MemoryLedger();
  const a = {};
  // Another process freed memory during the load: MemAvailable rose.
  l.record(a, 'a@1/tensorrt', 80 * MiB, 1000 * MiB, 1200 * MiB);
  t.equal(l.estimate('a@1/tensorrt', 80 * MiB).workspaceBytes, 0);
  t.equal(l.freedBy(a), 80 * MiB);
  const b = {};
  l.record(b, 'b@1/tensorrt', 50 * MiB, null, 900 * MiB);
  t.equal(l.freedBy(b), 50 * MiB, 'unmeasured: its file size');
  t.equal(l.estimate('b@1/tensorrt', 50 * MiB).workspaceFrom, 'the serving model', 'an unmeasured load records no workspace of its own');
});

t.test('checkFits refuses only what cannot fit even with the serving model unloaded', async (t) => {
  const e = { needBytes: 600 * MiB, modelBytes: 400 * MiB, workspaceBytes: 200 * MiB, workspaceFrom: 'the serving model' as const };
  t.doesNotThrow(() => checkFits('b@2', e, 300 * MiB, 300 * MiB, 'a@1'), 'exactly fits once a@1 is gone');
  const err = (() => {
    try {
      checkFits('b@2', e, 250 * MiB, 300 * MiB, 'a@1');
    } catch (x) {
      return x as AgentError;
    }
    return null;
  })();
  t.equal(err?.code, 'MODEL_DOES_NOT_FIT');
  t.match(err?.message, /b@2 needs about 600 MiB \(400 MiB model file \+ 200 MiB workspace as measured for the serving model\), but the board has only 550 MiB \(250 MiB available now \+ 300 MiB that unloading a@1 would free\)\. Nothing was unloaded; a@1 keeps serving\./);
  t.match(err?.details, { needBytes: 600 * MiB, availableBytes: 250 * MiB, freedBytes: 300 * MiB });
  t.equal(err?.httpStatus, 507);
  t.throws(() => checkFits('b@2', e, 100 * MiB, 0, null), { code: 'MODEL_DOES_NOT_FIT', message: /only 100 MiB \(100 MiB available\)\. Nothing was unloaded\.$/ });
});

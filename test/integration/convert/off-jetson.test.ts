/**
 * Off-Jetson conversion with the ONNX preparation STUBBED (t.mockImport): the real graph
 * surgery (agent/src/models/onnx/prepare.ts) belongs to the inference work and is not
 * exercised here. This proves only what convert does around it: which bytes it hands over
 * (decrypted .etlt payload or the .onnx as is), what it stores, and the cache.
 */
import t, { type Test } from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type * as RunModule from '../../../agent/src/convert/run.js';
import type { PreparedOnnx } from '../../../agent/src/models/onnx/prepare.js';
import { createPackage } from '../../../agent/src/models/package.js';
import { addPackage, findPackage } from '../../../agent/src/models/store.js';
import { loadModelKey } from '../../../agent/src/models/keyring.js';
import { silentLogger } from '../../../agent/src/core/log.js';
import { HostPaths } from '../../../agent/src/platform/paths.js';
import { MODEL_KEY, SEED_SPEC, laptop, writeEtlt, writeKeyring } from '../../helpers/convert-fixture.js';
import { onnxShapedBytes } from '../../helpers/protobuf-bytes.js';
import { generateYoloV3Onnx } from '../../../agent/src/models/onnx/generate.js';

const NMS = { shareLocation: true, backgroundLabelId: -1, numClasses: 3, topK: 400, keepTopK: 200, scoreThreshold: 0.01, iouThreshold: 0.6, isNormalized: true, clipBoxes: true, caffeSemantics: true, scoreBits: 16 };

async function load(t: Test, seen: Uint8Array[]): Promise<typeof RunModule> {
  return t.mockImport<typeof RunModule>('../../../agent/src/convert/run.js', {
    '../../../agent/src/models/onnx/prepare.js': {
      prepareForOnnxRuntime: (onnx: Uint8Array): PreparedOnnx => {
        seen.push(onnx);
        return { model: Buffer.from('PREPARED'), nms: NMS, outputNames: ['box/concat_concat', 'cls/mul'], inputName: 'Input' };
      },
      readTrtNmsAttributes: (): null => null,
    },
  });
}

t.test('ONNX .etlt and plain .onnx become servable ONNX Runtime models', async (t) => {
  const seen: Uint8Array[] = [];
  const { convertPackage } = await load(t, seen);
  const dir = t.testdir({ state: {} });
  const stateDir = path.join(dir, 'state');
  const keyring = path.join(dir, 'keys.yaml');
  writeKeyring(keyring, { yolo: MODEL_KEY });
  const deps = {
    stateDir,
    paths: new HostPaths('/'),
    board: laptop(),
    converters: { tltConverter: '', trtexec: '' },
    workspaceBytes: 1 << 30,
    timeoutMs: 10_000,
    log: silentLogger,
    loadKey: (ref: string) => loadModelKey(keyring, ref),
  };
  const etlt = path.join(dir, 'm.etlt');
  await writeEtlt(etlt, 'onnx');
  const onnx = path.join(dir, 'm.onnx');
  // A real TAO-shaped graph at the seed spec's input: package create reads its family and size.
  const plainOnnx = generateYoloV3Onnx({ height: 384, width: 1248, classes: 3 });
  writeFileSync(onnx, plainOnnx);
  for (const [i, model] of [etlt, onnx].entries()) {
    const out = path.join(dir, `p${i}.tar`);
    await createPackage({ model, specFile: SEED_SPEC, version: `1.${i}`, name: 'yolo', out, ...(model.endsWith('.etlt') ? { keyRef: 'yolo' } : {}) });
    const { pkg } = await addPackage({ stateDir, file: out, maxBytes: 1 << 26, now: () => new Date() });
    const { manifest } = await findPackage(stateDir, pkg.sha256);
    const r = await convertPackage(deps, { packageDir: pkg.dir, packageSha256: pkg.sha256, manifest });
    if (r.dryRun || r.servable.kind !== 'onnxruntime') throw new Error('expected an ONNX Runtime servable');
    t.equal(r.cached, false);
    t.ok(Buffer.from(seen[i] ?? []).equals(i === 0 ? onnxShapedBytes(20_000) : plainOnnx), `${path.basename(model)}: preparation got the plain ONNX bytes`);
    t.equal(readFileSync(r.servable.onnxPath, 'utf8'), 'PREPARED', 'the prepared model is stored');
    t.same(r.servable.nms, NMS);
    t.same(r.servable.outputNames, ['box/concat_concat', 'cls/mul']);
    const onDisk = JSON.parse(readFileSync(path.join(path.dirname(r.servable.onnxPath), 'servable.json'), 'utf8')) as { kind: string; packageSha256: string };
    t.same([onDisk.kind, onDisk.packageSha256], ['onnxruntime', pkg.sha256]);
    const again = await convertPackage(deps, { packageDir: pkg.dir, packageSha256: pkg.sha256, manifest });
    t.equal(again.cached, true);
    t.equal(seen.length, i + 1, 'a cached model is not prepared again');
    t.ok(existsSync(r.servable.onnxPath));
  }
});

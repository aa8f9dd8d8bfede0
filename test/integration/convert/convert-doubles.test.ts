/**
 * Conversion against the strict converter DOUBLES in test/fixtures/bin (real subprocesses).
 * These tests prove argument derivation, key handling, caching and error mapping only — not
 * that a real tlt-converter/trtexec builds a working engine (docs/hardware-validation.md).
 */
import t, { type Test } from 'tap';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { convertPackage, type ConvertDeps } from '../../../agent/src/convert/run.js';
import { listEngines } from '../../../agent/src/convert/cache.js';
import { createPackage } from '../../../agent/src/models/package.js';
import { addPackage, findPackage } from '../../../agent/src/models/store.js';
import { loadModelKey } from '../../../agent/src/models/keyring.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import { silentLogger } from '../../../agent/src/core/log.js';
import { HostPaths } from '../../../agent/src/platform/paths.js';
import type { BoardInfo } from '../../../agent/src/core/contracts/board.js';
import { DOUBLES, MODEL_KEY, SEED_SPEC, laptop, nanoBoard, writeEtlt, writeKeyring } from '../../helpers/convert-fixture.js';
import { generateYoloV3Onnx } from '../../../agent/src/models/onnx/generate.js';

interface Setup {
  readonly dir: string;
  readonly stateDir: string;
  readonly keyring: string;
  deps(over?: Partial<ConvertDeps>): ConvertDeps;
  pkg(kind: 'uff' | 'onnx-etlt' | 'onnx', extra?: { precision?: string; calibration?: boolean }): Promise<Awaited<ReturnType<typeof findPackage>>>;
}

async function setup(t: Test, board: BoardInfo = nanoBoard()): Promise<Setup> {
  const dir = t.testdir({ state: {}, work: {} });
  const stateDir = path.join(dir, 'state');
  const keyring = path.join(dir, 'keys.yaml');
  writeKeyring(keyring, { yolo: MODEL_KEY });
  let n = 0;
  return {
    dir,
    stateDir,
    keyring,
    deps: (over = {}) => ({
      stateDir,
      paths: new HostPaths(path.join(dir, 'root')),
      board,
      converters: { tltConverter: path.join(DOUBLES, 'tlt-converter'), trtexec: path.join(DOUBLES, 'trtexec') },
      workspaceBytes: 1 << 30,
      timeoutMs: 30_000,
      log: silentLogger,
      loadKey: (ref) => loadModelKey(keyring, ref),
      ...over,
    }),
    pkg: async (kind, extra = {}) => {
      n++;
      const work = path.join(dir, 'work');
      const model = path.join(work, kind === 'onnx' ? `m${n}.onnx` : `m${n}.etlt`);
      // A real TAO-shaped graph at the seed spec's 3×384×1248 with its 3 classes: package create
      // reads the graph (family, input size) before anything is converted.
      if (kind === 'onnx') writeFileSync(model, generateYoloV3Onnx({ height: 384, width: 1248, classes: 3, seed: n }));
      else await writeEtlt(model, kind === 'uff' ? 'uff' : 'onnx');
      let calibration: string | undefined;
      if (extra.calibration) {
        calibration = path.join(work, 'cal.bin');
        writeFileSync(calibration, 'TRT-7000-EntropyCalibration2\nInput: 3f9849a2\n');
      }
      const out = path.join(work, `p${n}.tar`);
      await createPackage({
        model,
        specFile: SEED_SPEC,
        version: `1.0.${n}`,
        name: 'yolo',
        out,
        ...(kind === 'onnx' ? {} : { keyRef: 'yolo' }),
        ...(extra.precision ? { precision: extra.precision } : {}),
        ...(calibration ? { calibration } : {}),
      });
      const { pkg } = await addPackage({ stateDir, file: out, maxBytes: 1 << 26, now: () => new Date() });
      return findPackage(stateDir, pkg.sha256);
    },
  };
}

const req = (p: Awaited<ReturnType<typeof findPackage>>) => ({ packageDir: p.pkg.dir, packageSha256: p.pkg.sha256, manifest: p.manifest });

async function codeOf(p: Promise<unknown>): Promise<AgentError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof AgentError)) throw new Error(`expected an AgentError, got ${String(e)}`);
  return e;
}

function withEnv(t: Test, vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) process.env[k] = v;
  t.teardown(() => {
    for (const k of Object.keys(vars)) delete process.env[k];
  });
}

function engineInfo(enginePath: string): Record<string, unknown> {
  const [head, json] = readFileSync(enginePath, 'utf8').split('\n');
  if (!head?.endsWith('-DOUBLE-ENGINE')) throw new Error('not a double engine');
  return JSON.parse(json ?? '{}') as Record<string, unknown>;
}

t.test('UFF .etlt on a Nano: seed-spec args, key only via -k, engine cached by board', async (t) => {
  const s = await setup(t);
  const p = await s.pkg('uff');
  const lines: string[] = [];
  const r = await convertPackage(s.deps(), { ...req(p), onLine: (l) => lines.push(l) });
  if (r.target !== 'tensorrt' || r.dryRun) throw new Error('expected a TensorRT build');
  t.equal(r.cached, false);
  const info = engineInfo(r.servable.kind === 'tensorrt' ? r.servable.enginePath : '');
  t.same(info.dims, '3,384,1248');
  t.same(info.outputs, ['BatchedNMS']);
  t.same([info.datatype, info.maxBatch, info.workspace, info.order], ['fp16', 1, 1 << 30, 'nchw']);
  t.equal(info.keySha256, createHash('sha256').update(MODEL_KEY).digest('hex'), 'the converter got the keyring key');
  t.ok(r.record.args.includes('***'));
  t.equal(r.record.tensorrt, '7.1.3');
  t.equal(r.record.cudaArch, 53);
  const log = readFileSync(r.record.logFile, 'utf8');
  t.match(log, /-k \*\*\* -d 3,384,1248 -o BatchedNMS/, 'the log shows the command with the key redacted');
  t.notMatch(log, new RegExp(MODEL_KEY), 'the key is not in the log');
  t.ok(lines.some((l) => /engine written/.test(l)), 'progress lines are streamed');
  t.ok(existsSync(path.join(path.dirname(r.servable.kind === 'tensorrt' ? r.servable.enginePath : ''), 'servable.json')));

  const again = await convertPackage(s.deps({ converters: { tltConverter: '/nonexistent/tlt-converter', trtexec: '' } }), req(p));
  t.equal(again.cached, true, 'second conversion is a cache hit (no converter needed)');

  // JetPack upgrade: TensorRT 8.0.1 → old entry is stale, never returned; a new one is built.
  const upgraded = nanoBoard({ tensorrt: '8.0.1', jetpack: '4.6' });
  const fresh = await convertPackage({ ...s.deps(), board: upgraded }, req(p));
  t.equal(fresh.cached, false);
  const listed = await listEngines(s.stateDir, upgraded);
  t.same(listed.map((e) => [e.tensorrt, e.status]), [['7.1.3', 'stale'], ['8.0.1', 'ready']]);
  t.same(readdirSync(path.join(s.stateDir, 'engines')).filter((n) => n.startsWith('.')), [], 'no temp dirs left');
});

t.test('ONNX-payload .etlt uses -p; plain .onnx goes to trtexec; int8 passes the cache', async (t) => {
  const s = await setup(t);
  const r = await convertPackage(s.deps(), { ...req(await s.pkg('onnx-etlt')), maxBatch: 4 });
  if (r.target !== 'tensorrt' || r.dryRun) throw new Error('expected a TensorRT build');
  const info = engineInfo(r.servable.kind === 'tensorrt' ? r.servable.enginePath : '');
  t.same(info.profiles, ['Input,1x3x384x1248,4x3x384x1248,4x3x384x1248']);
  t.equal(info.dims, null, 'no -d for an ONNX payload');

  const onnx = await convertPackage(s.deps({ board: nanoBoard({ tensorrt: '10.3.0', cudaArch: 87, jetpack: '6.1' }) }), req(await s.pkg('onnx')));
  if (onnx.target !== 'tensorrt' || onnx.dryRun) throw new Error('expected a TensorRT build');
  t.equal(onnx.record.tool, 'trtexec');
  const tinfo = engineInfo(onnx.servable.kind === 'tensorrt' ? onnx.servable.enginePath : '');
  t.same(tinfo.shapes, { input: 'Input', min: [1, 3, 384, 1248], opt: [1, 3, 384, 1248], max: [1, 3, 384, 1248] });
  t.same([tinfo.fp16, tinfo.workspace], [true, 'workspace:1024']);

  // JetPack 6 (TensorRT 10.3): no tao-converter exists, the ONNX .etlt is decrypted for trtexec.
  const jp6 = await convertPackage(s.deps({ board: nanoBoard({ tensorrt: '10.3.0', cudaArch: 87, jetpack: '6.1' }) }), req(await s.pkg('onnx-etlt')));
  if (jp6.target !== 'tensorrt' || jp6.dryRun) throw new Error('expected a TensorRT build');
  t.equal(jp6.record.tool, 'trtexec');
  t.notOk(jp6.record.args.some((a) => a === '-k' || a.includes(MODEL_KEY)), 'no key on the command line');
  t.equal(engineInfo(jp6.servable.kind === 'tensorrt' ? jp6.servable.enginePath : '').onnx, 'decrypted.onnx');
  t.same(readdirSync(path.dirname(jp6.servable.kind === 'tensorrt' ? jp6.servable.enginePath : '')).sort(), ['engine.json', 'model.engine', 'servable.json'], 'the decrypted model is not kept');

  const i8 = await convertPackage(s.deps(), req(await s.pkg('uff', { precision: 'int8', calibration: true })));
  if (i8.target !== 'tensorrt' || i8.dryRun) throw new Error('expected a TensorRT build');
  const i8info = engineInfo(i8.servable.kind === 'tensorrt' ? i8.servable.enginePath : '');
  t.equal(i8info.datatype, 'int8');
  t.match(String(i8info.calibration), /calibration\.bin$/);
});

t.test('dry run: converter, args with ***, engine path; the key is never loaded', async (t) => {
  const s = await setup(t);
  const p = await s.pkg('uff');
  const r = await convertPackage(s.deps({ loadKey: () => Promise.reject(new Error('key must not be loaded')) }), { ...req(p), dryRun: true });
  if (!r.dryRun || r.target !== 'tensorrt') throw new Error('expected a dry run');
  t.equal(r.converter, path.join(DOUBLES, 'tlt-converter'));
  t.same(r.args.slice(0, 8), ['-k', '***', '-d', '3,384,1248', '-o', 'BatchedNMS', '-e', r.engine]);
  t.match(r.engine, new RegExp(`engines/${r.key}/model\\.engine$`));
  t.notOk(existsSync(path.join(s.stateDir, 'engines', r.key)), 'nothing built');
});

t.test('a wrong key fails fast with ETLT_BAD_KEY before the converter runs', async (t) => {
  const s = await setup(t);
  const p = await s.pkg('uff');
  writeKeyring(s.keyring, { yolo: 'not-the-key' });
  withEnv(t, { CONVERTER_DOUBLE_FAIL: 'garbage' }); // would fail differently if it ran
  const e = await codeOf(convertPackage(s.deps(), req(p)));
  t.equal(e.code, 'ETLT_BAD_KEY');
  t.notMatch(e.message + (e.hint ?? ''), /not-the-key/);
  t.notOk(existsSync(path.join(s.stateDir, 'engines')) && readdirSync(path.join(s.stateDir, 'engines')).length > 0, 'nothing built');
});

t.test('documented failure texts from the double become coded errors; nothing is cached', async (t) => {
  const s = await setup(t);
  const p = await s.pkg('uff');
  const cases: [string, string][] = [
    ['plugin', 'PLUGIN_MISSING'],
    ['plugin-nms', 'PLUGIN_MISSING'],
    ['libnvinfer', 'CONVERTER_LIB_MISMATCH'],
    ['undefined-symbol', 'CONVERTER_LIB_MISMATCH'],
    ['implicit-batch', 'PLUGIN_MISSING'],
    ['oom', 'OUT_OF_MEMORY'],
    ['killed', 'OUT_OF_MEMORY'],
    ['garbage', 'CONVERT_FAILED'],
    ['no-engine', 'CONVERT_FAILED'],
  ];
  for (const [mode, code] of cases) {
    process.env.CONVERTER_DOUBLE_FAIL = mode;
    const e = await codeOf(convertPackage(s.deps(), req(p)));
    delete process.env.CONVERTER_DOUBLE_FAIL;
    t.equal(e.code, code, mode);
    t.match(e.hint ?? '', /log/i, `${mode}: the hint points at the full log`);
    t.notMatch(e.message, new RegExp(MODEL_KEY));
  }
  t.same(readdirSync(path.join(s.stateDir, 'engines')), [], 'no engine and no temp dir left');
});

t.test('deadline and cancellation stop the converter and leave nothing', async (t) => {
  const s = await setup(t);
  const p = await s.pkg('uff');
  withEnv(t, { CONVERTER_DOUBLE_SLEEP_MS: '5000' });
  t.equal((await codeOf(convertPackage(s.deps({ timeoutMs: 300 }), req(p)))).code, 'TIMEOUT');
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  t.equal((await codeOf(convertPackage(s.deps(), { ...req(p), signal: ac.signal }))).code, 'CANCELED');
  t.same(readdirSync(path.join(s.stateDir, 'engines')), []);
});

t.test('CONVERTER_NOT_FOUND names the build for the board; off-Jetson UFF is UFF_NEEDS_TENSORRT', async (t) => {
  const s = await setup(t);
  const p = await s.pkg('uff');
  const savedPath = process.env.PATH;
  process.env.PATH = '/nonexistent';
  t.teardown(() => (process.env.PATH = savedPath));
  const nf = await codeOf(convertPackage(s.deps({ converters: { tltConverter: '', trtexec: '' } }), req(p)));
  process.env.PATH = savedPath;
  t.equal(nf.code, 'CONVERTER_NOT_FOUND');
  t.match(nf.hint ?? '', /v3\.21\.11_trt7\.1_aarch64/);
  const cfgMissing = await codeOf(convertPackage(s.deps({ converters: { tltConverter: '/opt/none/tao-converter', trtexec: '' } }), req(p)));
  t.match(cfgMissing.message, /convert\.tltConverter is set to \/opt\/none\/tao-converter/);

  const uff = await codeOf(convertPackage(s.deps({ board: laptop() }), req(p)));
  t.equal(uff.code, 'UFF_NEEDS_TENSORRT');
  const onnxDry = await convertPackage(s.deps({ board: laptop() }), { ...req(await s.pkg('onnx')), dryRun: true });
  t.equal(onnxDry.target, 'onnxruntime');
  if (onnxDry.dryRun) t.match(onnxDry.engine, /models\/[0-9a-f]{32}\/model\.onnx$/);
});

t.test('a TAO .etlt ending in BatchedNMS on a TensorRT 11 board: TENSORRT_PLUGIN_REMOVED before any converter runs', async (t) => {
  const s = await setup(t, nanoBoard({ tensorrt: '11.0.0' }));
  const p = await s.pkg('onnx-etlt');
  const e = await codeOf(convertPackage(s.deps({ converters: { tltConverter: '/nonexistent/tao-converter', trtexec: '/nonexistent/trtexec' } }), req(p)));
  t.equal(e.code, 'TENSORRT_PLUGIN_REMOVED');
  t.match(e.message, /needs BatchedNMS_TRT, which TensorRT 11\.0\.0 on this board does not have \(removed in TensorRT 11\)/);
  t.match(e.hint ?? '', /Re-export the model with EfficientNMS .* or keep this model on boards with TensorRT 10/);
  t.same(await listEngines(s.stateDir, nanoBoard()), [], 'nothing was built or cached');
});

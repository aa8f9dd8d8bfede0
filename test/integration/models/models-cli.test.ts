/**
 * The model CLI end to end as real subprocesses: package create (jetson-fleet) → models add →
 * list → model inspect → convert (dry run and a build with the tlt-converter DOUBLE on a
 * Jetson-Nano host-root mirror) → engines list → models remove. The conversion part proves the
 * invocation only (see test/fixtures/bin).
 */
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli, FLEET_JS } from '../../helpers/cli.js';
import { DOUBLES, MODEL_KEY, SEED_SPEC, writeEtlt, writeKeyring } from '../../helpers/convert-fixture.js';

function nanoRoot(root: string): void {
  mkdirSync(path.join(root, 'proc', 'device-tree'), { recursive: true });
  writeFileSync(path.join(root, 'proc', 'device-tree', 'compatible'), 'nvidia,p3449-0000-b00+p3448-0000-b00\0nvidia,jetson-nano\0nvidia,tegra210\0');
  writeFileSync(path.join(root, 'proc', 'device-tree', 'model'), 'NVIDIA Jetson Nano Developer Kit\0');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc', 'nv_tegra_release'), '# R32 (release), REVISION: 4.3, GCID: 21589087, BOARD: t210ref, EABI: aarch64, DATE: Fri Jun 26 04:38:25 UTC 2020\n');
  mkdirSync(path.join(root, 'usr', 'include', 'aarch64-linux-gnu'), { recursive: true });
  writeFileSync(
    path.join(root, 'usr', 'include', 'aarch64-linux-gnu', 'NvInferVersion.h'),
    '#define NV_TENSORRT_MAJOR 7\n#define NV_TENSORRT_MINOR 1\n#define NV_TENSORRT_PATCH 3\n#define NV_TENSORRT_BUILD 0\n',
  );
}

t.test('spec show: the seed spec, and a syntax error with line:column', async (t) => {
  const r = await runCli(['spec', 'show', SEED_SPEC, '--json']);
  t.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { dims: string; outputs: string[]; classes: string[]; nms: unknown };
  t.same([s.dims, s.outputs, s.classes], ['3,384,1248', ['BatchedNMS'], ['car', 'cyclist', 'pedestrian']]);
  t.same(s.nms, { confidenceThreshold: 0.01, iouThreshold: 0.6, topK: 200 });
  const dir = t.testdir({ 'bad.txt': 'nms_config {\n  top_k 200\n}\n' });
  const bad = await runCli(['spec', 'show', path.join(dir, 'bad.txt')]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /SPEC_SYNTAX: .*bad\.txt:2:9: expected ":" or "\{" after field "top_k"/);
});

t.test('package → store → inspect → convert → engines → remove', async (t) => {
  const dir = t.testdir({ root: {}, state: {} });
  const root = path.join(dir, 'root');
  nanoRoot(root);
  const model = path.join(dir, 'yolo_darknet53.etlt');
  await writeEtlt(model, 'uff');
  const keyring = path.join(dir, 'keys.yaml');
  writeKeyring(keyring, { yolo: MODEL_KEY });
  const keyFile = path.join(dir, 'key.txt');
  writeFileSync(keyFile, `${MODEL_KEY}\n`, { mode: 0o600 });
  const config = path.join(dir, 'config.yaml');
  writeFileSync(config, `models:\n  keyringPath: ${keyring}\nconvert:\n  tltConverter: ${path.join(DOUBLES, 'tlt-converter')}\n`);
  const common = ['--config', config, '--state-dir', path.join(dir, 'state'), '--root', root];

  const out = path.join(dir, 'yolo-1.0.0.tar.gz');
  const created = await runCli(['package', 'create', '--model', model, '--spec', SEED_SPEC, '--version', '1.0.0', '--name', 'yolo', '--key-ref', 'yolo', '--key-file', keyFile, '--out', out], { script: FLEET_JS });
  t.equal(created.code, 0, created.stderr);
  const sha = /^([0-9a-f]{64}) {2}/.exec(created.stdout)?.[1] ?? '';
  t.match(sha, /^[0-9a-f]{64}$/, 'prints the sha256');

  const wrongSum = await runCli(['models', 'add', out, '--sha256', 'f'.repeat(64), ...common]);
  t.equal(wrongSum.code, 1);
  t.match(wrongSum.stderr, /PACKAGE_SHA256_MISMATCH/);
  const added = await runCli(['models', 'add', out, '--sha256', sha, '--json', ...common]);
  t.equal(added.code, 0, added.stderr);
  t.match(JSON.parse(added.stdout), { added: true, name: 'yolo', version: '1.0.0', sha256: sha });
  const list = await runCli(['models', 'list', ...common]);
  t.match(list.stdout, /yolo@1\.0\.0 +yolov3 +etlt/);

  const inspect = await runCli(['model', 'inspect', model, '--key-ref', 'yolo', '--json', ...common]);
  t.equal(inspect.code, 0, inspect.stderr);
  t.match(JSON.parse(inspect.stdout), { format: 'etlt', payload: 'uff', inputName: 'Input', keyValid: true });

  const dry = await runCli(['convert', '--package', 'yolo@1.0.0', '--dry-run', '--json', ...common]);
  t.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout) as { converter: string; args: string[]; engine: string };
  t.equal(plan.converter, path.join(DOUBLES, 'tlt-converter'));
  t.same(plan.args.slice(0, 6), ['-k', '***', '-d', '3,384,1248', '-o', 'BatchedNMS']);
  t.notMatch(dry.stdout + dry.stderr, new RegExp(MODEL_KEY), 'the key is never printed');

  const built = await runCli(['convert', '--package', 'yolo@1.0.0', ...common]);
  t.equal(built.code, 0, built.stderr);
  t.match(built.stdout, /yolo@1\.0\.0: built TensorRT engine .*model\.engine/);
  t.notMatch(built.stdout + built.stderr, new RegExp(MODEL_KEY));
  const again = await runCli(['convert', '--package', 'yolo@1.0.0', ...common]);
  t.match(again.stdout, /cached TensorRT engine/);
  const engines = await runCli(['engines', 'list', '--json', ...common]);
  t.match(JSON.parse(engines.stdout), { tensorrt: '7.1.3', cudaArch: 53, engines: [{ status: 'ready', name: 'yolo', precision: 'fp16' }] });

  const removed = await runCli(['models', 'remove', 'yolo@1.0.0', ...common]);
  t.equal(removed.code, 0, removed.stderr);
  const gone = await runCli(['convert', '--package', 'yolo@1.0.0', ...common]);
  t.equal(gone.code, 1);
  t.match(gone.stderr, /MODEL_NOT_FOUND/);
});

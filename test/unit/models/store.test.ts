import t, { type Test } from 'tap';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { addPackage, cleanStaleTemp, findPackage, listPackages, removePackage } from '../../../agent/src/models/store.js';
import { AgentError } from '../../../agent/src/core/errors.js';
import { sha256 } from '../../../agent/src/platform/fs.js';
import { rawTar, type RawMember } from '../../helpers/raw-tar.js';
import { manifestFor, ONNX_BYTES } from '../../helpers/model-package.js';

const now = (): Date => new Date('2026-01-02T03:04:05Z');

async function intake(t: Test, members: RawMember[] | Buffer, extra: { expectedSha256?: string; expectedSize?: number; maxBytes?: number } = {}) {
  const dir = t.testdir({ state: {} });
  const file = path.join(dir, 'pkg.tar');
  writeFileSync(file, Buffer.isBuffer(members) ? members : rawTar(members));
  const stateDir = path.join(dir, 'state');
  const run = () => addPackage({ stateDir, file, maxBytes: extra.maxBytes ?? 1 << 24, now, ...extra });
  return { dir, file, stateDir, run };
}

const good = (over: Record<string, unknown> = {}): RawMember[] => [
  { name: 'model.json', body: JSON.stringify(manifestFor(over)) },
  { name: 'model.onnx', body: ONNX_BYTES },
];

async function code(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  return e instanceof AgentError ? `${e.code}: ${e.message}` : `no AgentError: ${String(e)}`;
}

/** Nothing but the (empty) packages dir remains. */
function nothingStored(t: Test, stateDir: string): void {
  const pk = path.join(stateDir, 'packages');
  t.same(existsSync(pk) ? readdirSync(pk) : [], [], 'nothing half-stored');
}

t.test('a valid package is stored under packages/<sha256>/, listed, found and removed', async (t) => {
  const { file, stateDir, run } = await intake(t, rawTar(good(), true));
  const r = await run();
  t.equal(r.added, true);
  t.equal(r.pkg.sha256, sha256(rawTar(good(), true)));
  t.equal(r.pkg.dir, path.join(stateDir, 'packages', r.pkg.sha256));
  t.ok(existsSync(path.join(r.pkg.dir, 'model.onnx')));
  t.same((await listPackages(stateDir)).map((p) => `${p.name}@${p.version}`), ['yolov3-kitti@1.0.0']);
  const again = await addPackage({ stateDir, file, maxBytes: 1 << 24, now });
  t.equal(again.added, false, 'the same package twice is a no-op');
  const found = await findPackage(stateDir, 'yolov3-kitti@1.0.0');
  t.equal(found.manifest.precision, 'fp16', 'schema defaults are filled');
  t.equal((await findPackage(stateDir, r.pkg.sha256)).pkg.name, 'yolov3-kitti');
  t.match(await code(findPackage(stateDir, 'yolov3-kitti@9')), /^MODEL_NOT_FOUND/);
  await removePackage(stateDir, 'yolov3-kitti@1.0.0');
  t.same(await listPackages(stateDir), []);
  nothingStored(t, stateDir);
});

t.test('sha256/size mismatch and oversize packages are refused before unpacking', async (t) => {
  const { stateDir, run } = await intake(t, good(), { expectedSha256: 'a'.repeat(64) });
  t.match(await code(run()), /^PACKAGE_SHA256_MISMATCH: .*expected a{64}/);
  nothingStored(t, stateDir);
  const size = await intake(t, good(), { expectedSize: 5 });
  t.match(await code(size.run()), /^PACKAGE_SHA256_MISMATCH: .*expected 5/);
  const big = await intake(t, good(), { maxBytes: 2048 });
  t.match(await code(big.run()), /^PACKAGE_TOO_LARGE/);
});

t.test('unsafe members: each a coded error, nothing half-stored', async (t) => {
  const cases: [string, RawMember[], RegExp][] = [
    ['dot-dot', [...good(), { name: '../evil.sh', body: 'x' }], /PACKAGE_UNSAFE: .*"\.\.\/evil\.sh".*escapes/],
    ['nested dot-dot', [...good(), { name: 'a/../../evil', body: 'x' }], /PACKAGE_UNSAFE/],
    ['absolute', [...good(), { name: '/etc/cron.d/evil', body: 'x' }], /PACKAGE_UNSAFE: .*absolute path/],
    ['symlink out', [...good(), { name: 'link', type: '2', linkname: '../../../etc/passwd' }], /PACKAGE_UNSAFE: .*symlink leads outside/],
    ['absolute symlink', [...good(), { name: 'link', type: '2', linkname: '/etc/passwd' }], /PACKAGE_UNSAFE: .*symlink to an absolute path/],
    ['hard link out', [...good(), { name: 'hl', type: '1', linkname: '../x' }], /PACKAGE_UNSAFE: .*hard link/],
    ['device', [...good(), { name: 'dev', type: '3' }], /PACKAGE_UNSAFE: .*CharacterDevice/],
    ['duplicate', [...good(), { name: './model.onnx', body: 'other' }], /PACKAGE_UNSAFE: .*duplicate/],
  ];
  for (const [label, members, re] of cases) {
    const { stateDir, run } = await intake(t, members);
    t.match(await code(run()), re, label);
    nothingStored(t, stateDir);
    t.notOk(existsSync(path.join(stateDir, '..', 'evil.sh')), `${label}: nothing written outside`);
  }
  // gzip: the package file is small, the member it declares is not.
  const huge = await intake(t, rawTar([...good(), { name: 'big.bin', body: Buffer.alloc(600_000, 1) }], true), { maxBytes: 500_000 });
  t.match(await code(huge.run()), /PACKAGE_TOO_LARGE: .*big\.bin/);
  nothingStored(t, huge.stateDir);
});

t.test('symlink chains are resolved against the extracted tree: a link whose chain leaves the package is refused', async (t) => {
  const dir: RawMember = { name: 'a/', type: '5' };
  const cases: [string, RawMember[], RegExp][] = [
    // `a/b → ..` is the package root, so `b/..` is the package's parent: each text alone looks harmless.
    ['a/b → .., a/c → b/..', [...good(), dir, { name: 'a/b', type: '2', linkname: '..' }, { name: 'a/c', type: '2', linkname: 'b/..' }], /PACKAGE_UNSAFE: .*"a\/c": symlink leads outside the package \(b\/\.\. resolves to /],
    ['two levels up through a chain', [...good(), dir, { name: 'a/b', type: '2', linkname: '..' }, { name: 'a/c', type: '2', linkname: 'b/../..' }], /PACKAGE_UNSAFE: .*"a\/c": symlink leads outside/],
    ['chain over three links', [...good(), dir, { name: 'up', type: '2', linkname: 'a/b' }, { name: 'a/b', type: '2', linkname: '..' }, { name: 'out', type: '2', linkname: 'up/..' }], /PACKAGE_UNSAFE: .*"out": symlink leads outside/],
    ['dangling link', [...good(), { name: 'gone', type: '2', linkname: 'nothing-here' }], /PACKAGE_UNSAFE: .*"gone": symlink leads to nothing inside the package/],
    ['link loop (refused while writing: l2 would link through l1)', [...good(), { name: 'l1', type: '2', linkname: 'l2' }, { name: 'l2', type: '2', linkname: 'l1' }], /PACKAGE_UNSAFE: .*through the package's symlink l1/],
    ['link to itself', [...good(), { name: 'self', type: '2', linkname: 'self' }], /PACKAGE_UNSAFE: .*"self": symlink loops/],
    ['file written through a link', [...good(), dir, { name: 'a/b', type: '2', linkname: '..' }, { name: 'a/b/x', body: 'x' }], /PACKAGE_UNSAFE: .*through the package's symlink a\/b/],
  ];
  for (const [label, members, re] of cases) {
    const { stateDir, run } = await intake(t, members);
    t.match(await code(run()), re, label);
    nothingStored(t, stateDir);
  }
  // A link that stays inside is still a valid package member.
  const ok = await intake(t, [...good(), dir, { name: 'a/labels.txt', body: 'car\n' }, { name: 'labels.txt', type: '2', linkname: 'a/labels.txt' }, { name: 'a/self', type: '2', linkname: '../a' }]);
  const r = await ok.run();
  t.equal(readFileSync(path.join(r.pkg.dir, 'labels.txt'), 'utf8'), 'car\n');
});

t.test('setuid, setgid and sticky bits in the archive are not kept', async (t) => {
  const { run } = await intake(t, [
    ...good(),
    { name: 'suid-bin', body: '#!/bin/sh\n', mode: 0o4755 },
    { name: 'sgid-bin', body: '#!/bin/sh\n', mode: 0o2755 },
    { name: 'shared/', type: '5', mode: 0o3777 },
    { name: 'shared/x', body: 'x', mode: 0o6644 },
  ]);
  const r = await run();
  const mode = (f: string): string => (statSync(path.join(r.pkg.dir, f)).mode & 0o7777).toString(8);
  t.equal(mode('suid-bin'), '755', 'setuid stripped (the archive said 4755)');
  t.equal(mode('sgid-bin'), '755', 'setgid stripped');
  t.equal(Number.parseInt(mode('shared'), 8) & 0o7000, 0, `directory without setgid/sticky (${mode('shared')})`);
  t.equal(Number.parseInt(mode('shared/x'), 8) & 0o7000, 0);
});

t.test('bad content: not a tar, no model.json, wrong types, unknown network, missing file', async (t) => {
  const cases: [string, RawMember[] | Buffer, RegExp][] = [
    ['not a tar', Buffer.from('this is not an archive at all'.repeat(40)), /^PACKAGE_INVALID/],
    ['no model.json', [{ name: 'model.onnx', body: ONNX_BYTES }], /^PACKAGE_INVALID: The package has no model\.json/],
    ['bad json', [{ name: 'model.json', body: '{"name": ' }], /^PACKAGE_INVALID: model\.json is not valid JSON/],
    ['wrong types', good({ input: { name: 'Input', channels: 3, height: '384', width: 1248 }, maxBatch: 'eight' }), /MODEL_MANIFEST_INVALID: .*2 problem\(s\)[\s\S]*\/input\/height[\s\S]*\/maxBatch/],
    ['unknown network', good({ network: 'resnet-classifier' }), /MODEL_MANIFEST_INVALID: [\s\S]*"resnet-classifier" is not a supported network \(yolov3, yolov4/],
    ['missing file', good({ file: 'other.onnx' }), /PACKAGE_INVALID: model\.json names "other\.onnx", but the package has no such file/],
    ['escaping file', good({ file: '../x.onnx' }), /MODEL_MANIFEST_INVALID: [\s\S]*\/file: "\.\.\/x\.onnx" must be a relative path/],
    ['etlt without keyRef', [{ name: 'model.json', body: JSON.stringify(manifestFor({ format: 'etlt', file: 'm.etlt' })) }, { name: 'm.etlt', body: 'x' }], /\/keyRef: required/],
  ];
  for (const [label, members, re] of cases) {
    const { stateDir, run } = await intake(t, members);
    t.match(await code(run()), re, label);
    nothingStored(t, stateDir);
  }
});

t.test('same name@version with different content is a conflict; stale temp dirs are cleaned', async (t) => {
  const a = await intake(t, good());
  await a.run();
  const other = path.join(a.dir, 'other.tar');
  writeFileSync(other, rawTar([...good(), { name: 'extra.txt', body: 'x' }]));
  t.match(await code(addPackage({ stateDir: a.stateDir, file: other, maxBytes: 1 << 24, now })), /^PACKAGE_CONFLICT: yolov3-kitti@1\.0\.0 is already stored/);
  t.equal((await listPackages(a.stateDir)).length, 1);
  const stale = path.join(a.stateDir, 'packages', '.incoming-abc123');
  mkdirSync(stale);
  t.equal(await cleanStaleTemp(a.stateDir), 1);
  t.notOk(existsSync(stale));
});

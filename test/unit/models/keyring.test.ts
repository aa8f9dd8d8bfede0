import t from 'tap';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { keyringModeProblem, loadKeyFile, loadModelKey } from '../../../agent/src/models/keyring.js';
import { AgentError } from '../../../agent/src/core/errors.js';

const fail = async (p: Promise<unknown>): Promise<AgentError> => {
  const e = await p.catch((err: unknown) => err);
  if (!(e instanceof AgentError)) throw new Error('expected an AgentError');
  return e;
};

t.test('keyring: loaded on use, 600 only, key never in messages', async (t) => {
  const dir = t.testdir({ 'keys.yaml': 'keys:\n  yolo: s3cr3t-model-key\n  numeric: 12345\n', 'bad.yaml': 'keys: [s3cr3t\n', 'flat.yaml': 'yolo: x\n', 'nokey.yaml': 'keys:\n  s3cr3t-as-name:\n', 'key.txt': 'tlt_encode\n' });
  const file = path.join(dir, 'keys.yaml');
  chmodSync(file, 0o600);
  t.same(await loadModelKey(file, 'yolo'), { name: 'yolo', value: 's3cr3t-model-key' });
  t.equal((await loadModelKey(file, 'numeric')).value, '12345');
  const missing = await fail(loadModelKey(file, 'other'));
  t.equal(missing.code, 'KEY_NOT_FOUND');
  t.match(missing.message, /"other"/);

  chmodSync(file, 0o644);
  const open = await fail(loadModelKey(file, 'yolo'));
  t.equal(open.code, 'KEYRING_INSECURE');
  t.match(open.message, /mode 644/);
  t.match(open.hint ?? '', /chmod 600/);
  chmodSync(file, 0o660);
  t.equal((await fail(loadModelKey(file, 'yolo'))).code, 'KEYRING_INSECURE', 'group-writable is refused too');
  t.equal(keyringModeProblem(0o640, 1000), 'it is group-readable but not owned by root');
  t.equal(keyringModeProblem(0o640, 0), undefined, 'root-owned 0640 (root:jetson-agent) is accepted for the unprivileged daemon');
  t.equal(keyringModeProblem(0o600, 1000), undefined);

  const absent = await fail(loadModelKey(path.join(dir, 'nope.yaml'), 'yolo'));
  t.equal(absent.code, 'KEYRING_UNREADABLE');
  for (const name of ['bad.yaml', 'flat.yaml', 'nokey.yaml']) {
    chmodSync(path.join(dir, name), 0o600);
    const e = await fail(loadModelKey(path.join(dir, name), 'yolo'));
    t.equal(e.code, 'KEYRING_UNREADABLE', name);
    t.notMatch(JSON.stringify(e.toJSON()) + e.message, /s3cr3t/, `${name}: the file content is not echoed`);
  }

  const kf = path.join(dir, 'key.txt');
  chmodSync(kf, 0o600);
  t.equal((await loadKeyFile(kf)).value, 'tlt_encode');
  chmodSync(kf, 0o604);
  t.equal((await fail(loadKeyFile(kf))).code, 'KEYRING_INSECURE');
});

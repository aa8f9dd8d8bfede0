import t from 'tap';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FLEET_JS, runCli } from '../../helpers/cli.js';
import { startAgent } from '../../helpers/agent-process.js';
import { generateYoloV3Onnx } from '../../../agent/src/models/onnx/generate.js';

/**
 * `models list` marks what serves, `models remove` keeps a model in use unless --force and says
 * what a restart will serve (checked by restarting), `models prune` removes what nothing uses
 * with its cached ONNX Runtime model. Real packages, a real daemon.
 */
t.test('models list / remove / prune against a running daemon', async (t) => {
  const dir = t.testdir({ state: {} });
  const state = path.join(dir, 'state');
  const pack = async (name: string, version: string, seed: number): Promise<void> => {
    const onnx = path.join(dir, `${name}-${version}.onnx`);
    writeFileSync(onnx, generateYoloV3Onnx({ height: 64, width: 96, classes: 2, seed, scoreThreshold: 0.3 }));
    const pkg = path.join(dir, `${name}-${version}.tar`);
    const c = await runCli(['package', 'create', '--model', onnx, '--name', name, '--version', version, '--network', 'yolov3', '--classes', 'person,car', '--input', '3,64,96', '--precision', 'fp32', '--out', pkg], { script: FLEET_JS });
    t.equal(c.code, 0, c.stderr);
    const a = await runCli(['models', 'add', pkg, '--state-dir', state]);
    t.equal(a.code, 0, a.stderr);
  };
  await pack('small', '1', 1);
  await pack('small', '2', 2);
  await pack('other', '1', 3);

  let agent = startAgent(['--state-dir', state]);
  t.teardown(() => agent.kill());
  let port = await agent.port();
  await agent.waitLog(/"msg":"model activated"/);
  const cli = (args: string[]) => runCli([...args, '--state-dir', state], { env: { JETSON_AGENT_INFERENCE_PORT: String(port) } });
  for (const m of ['other@1', 'small@1', 'small@2']) {
    const r = await cli(['models', 'activate', m]);
    t.equal(r.code, 0, r.stderr);
  }
  const caches = (): string[] => readdirSync(path.join(state, 'models')).filter((n) => !n.startsWith('.'));
  t.equal(caches().length, 3, 'each activation prepared an ONNX Runtime model');

  const list = await cli(['models', 'list']);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /^STATE +NAME@VERSION/m);
  t.match(list.stdout, /^\* serving +small@2 /m, 'the serving model is marked');
  t.match(list.stdout, /^previous +small@1 /m, 'and the rollback target');
  t.match(list.stdout, /^ +other@1 /m);
  t.notOk(list.stdout.includes('\u001b['), 'no colour on a pipe');
  const listJson = JSON.parse((await cli(['models', 'list', '--json'])).stdout) as { daemon: { active: { name: string } }; packages: { name: string; version: string; state: string[] }[] };
  t.same(listJson.packages.map((p) => [`${p.name}@${p.version}`, p.state]), [
    ['other@1', []],
    ['small@1', ['previous']],
    ['small@2', ['serving']],
  ]);

  const refused = await cli(['models', 'remove', 'small@2']);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /^jetson-agent: MODEL_IN_USE: small@2 is serving now, recorded as the serving model \(it starts after a restart\); after a restart the agent would serve demo-yolov3@generated-1 \(the generated demo model\)\. .*--force/m);
  t.ok(existsSync(path.join(state, 'packages')) && (await cli(['models', 'list', '--json'])).stdout.includes('"small"'), 'nothing was removed');
  const refusedPrev = await cli(['models', 'remove', 'small@1']);
  t.match(refusedPrev.stderr, /MODEL_IN_USE: small@1 is what a rollback returns to/);

  const dry = JSON.parse((await cli(['models', 'prune', '--dry-run', '--json'])).stdout) as { removed: { name: string; caches: string[] }[]; kept: { name: string; version: string; why: string[] }[] };
  t.same(dry.removed.map((r) => [r.name, r.caches.length]), [['other', 1]], 'only the unused package, with its cached model');
  t.equal(caches().length, 3, 'a dry run removes nothing');
  const pruned = await cli(['models', 'prune']);
  t.equal(pruned.code, 0, pruned.stderr);
  t.match(pruned.stdout, /^removed: other@1 \([0-9a-f]{12}\) and its cached 1 ONNX Runtime model$/m);
  t.match(pruned.stdout, /^kept: small@1 \(what a rollback returns to\)$/m);
  t.match(pruned.stdout, /^[\d.]+ MiB freed$/m);
  t.equal(caches().length, 2, "other@1's ONNX Runtime model is gone");
  t.match((await cli(['models', 'prune'])).stdout, /nothing to prune/);

  const forced = await cli(['models', 'remove', 'small@2', '--force']);
  t.equal(forced.code, 0, forced.stderr);
  t.match(forced.stdout, /^removed: small@2 \([0-9a-f]{12}\) and its cached 1 ONNX Runtime model, [\d.]+ MiB freed$/m);
  t.match(forced.stdout, /after a restart the agent will serve demo-yolov3@generated-1 \(the generated demo model\)/);
  t.equal(caches().length, 1);

  // The claim holds: restart, and the demo model serves.
  agent.child.kill('SIGTERM');
  t.equal(await agent.exited, 0);
  agent = startAgent(['--state-dir', state]);
  port = await agent.port();
  await agent.waitLog(/"msg":"model activated"/);
  await agent.waitLog(/serving the generated demo model/);
  const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { active: { name: string; version: string } };
  t.same([models.active.name, models.active.version], ['demo-yolov3', 'generated-1']);
  agent.child.kill('SIGTERM');
  t.equal(await agent.exited, 0);
});

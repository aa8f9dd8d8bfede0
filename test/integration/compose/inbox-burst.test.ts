import t from 'tap';
import { mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { create, extract } from 'tar';
import { startAgent } from '../../helpers/agent-process.js';
import { tinyOnnx, tinyPackage } from '../../helpers/real-fleet.js';

/**
 * Twenty packages dropped into a REAL daemon's inbox at once (issue #14 "Inbox drops": 38 of 39
 * were left in inbox/.deploy/ with no reason file). Each goes through the real local deployment
 * flow on ONNX Runtime (intake → prepare → warm-up → activate). Afterwards every package is
 * accounted for: stored and deployed in drop order, nothing left in the inbox or .deploy/, and
 * the last one dropped serves.
 */
const COUNT = 20;

t.test(`${COUNT} packages dropped together are queued and deployed one by one; none is lost`, async (t) => {
  const dir = t.testdir({ state: { inbox: {} }, src: {} });
  const state = path.join(dir, 'state');
  const inbox = path.join(state, 'inbox');
  // One package made by `jetson-fleet package create`, then the same layout with versions 1.0.1 … 1.0.20.
  const base = await tinyPackage(path.join(dir, 'src'), 'burst', '1.0.0', tinyOnnx(3));
  const unpacked = path.join(dir, 'src', 'unpacked');
  mkdirSync(unpacked);
  await extract({ file: base.file, cwd: unpacked });
  const members = readdirSync(unpacked);
  const manifest = JSON.parse(readFileSync(path.join(unpacked, 'model.json'), 'utf8')) as Record<string, unknown>;
  const staging = path.join(dir, 'src', 'out');
  mkdirSync(staging);
  for (let i = 1; i <= COUNT; i++) {
    writeFileSync(path.join(unpacked, 'model.json'), JSON.stringify({ ...manifest, version: `1.0.${i}` }));
    await create({ file: path.join(staging, `burst-${String(i).padStart(2, '0')}.tar`), cwd: unpacked, portable: true }, members);
  }

  const a = startAgent([], {
    JETSON_AGENT_STATE_DIR: state,
    JETSON_AGENT_DEVICE_ID: 'inbox-burst',
    JETSON_AGENT_MODELS_INBOX_POLL_SEC: '1',
    JETSON_AGENT_INFERENCE_DEMO_MODEL: 'false',
    JETSON_AGENT_INFERENCE_WARMUP_RUNS: '1',
    JETSON_AGENT_ROLLOUT_PROBATION_SEC: '0',
    JETSON_AGENT_HEALTH_INTERVAL_SEC: '3600',
  });
  t.teardown(() => a.kill());
  const port = await a.port();
  await a.waitLog(/"msg":"mqtt client started"/);

  // Drop them all at once (the same second), in name order as a copy tool would.
  const dropped = Math.floor(Date.now() / 1000);
  for (const f of readdirSync(staging).sort()) {
    writeFileSync(path.join(inbox, f), readFileSync(path.join(staging, f)));
    utimesSync(path.join(inbox, f), dropped, dropped);
  }

  const ended = (): number => a.log().split('"msg":"inbox deployment ended"').length - 1;
  // Bounded by progress, not by a clock: the agent must keep doing something until all ended.
  let lastLog = a.log().length;
  let quietSince = Date.now();
  while (ended() < COUNT) {
    await new Promise((r) => setTimeout(r, 200));
    if (a.log().length !== lastLog) {
      lastLog = a.log().length;
      quietSince = Date.now();
    } else if (Date.now() - quietSince > 20_000) {
      t.fail(`the agent went quiet with ${ended()} of ${COUNT} inbox deployments ended; inbox: ${readdirSync(inbox).join(', ')}; .deploy: ${readdirSync(path.join(inbox, '.deploy')).join(', ')}`);
      break;
    }
  }
  t.same(readdirSync(inbox).sort(), ['.deploy', 'rejected'], 'every package left the inbox');
  t.same(readdirSync(path.join(inbox, '.deploy')), [], 'nothing left in inbox/.deploy/');
  t.same(readdirSync(path.join(inbox, 'rejected')), [], 'none was rejected');
  t.equal(readdirSync(path.join(state, 'packages')).filter((n) => /^[0-9a-f]{64}$/.test(n)).length, COUNT, 'all stored');
  const states = [...a.log().matchAll(/"deploymentId":"(inbox-[^"]+)","state":"(\w+)","msg":"inbox deployment ended"/g)].map((m) => m[2]);
  t.same(states, Array<string>(COUNT).fill('active'), 'each deployment ran to active, none superseded another');
  const versions = [...a.log().matchAll(/"package":"burst-(\d+)\.tar"[^\n]*"msg":"package from inbox handed to the local deployment flow"/g)].map((m) => Number(m[1]));
  t.same(versions, Array.from({ length: COUNT }, (_, i) => i + 1), 'handed over in drop order, one at a time');
  const models = (await (await fetch(`http://127.0.0.1:${port}/v1/models`)).json()) as { active: { name: string; version: string } };
  t.match(models.active, { name: 'burst', version: `1.0.${COUNT}` }, 'the last one dropped serves');
});

import t from 'tap';
import path from 'node:path';
import mqtt from 'mqtt';
import sharp from 'sharp';
import { Value } from '@sinclair/typebox/value';
import { HealthSnapshotSchema, type HealthSnapshot } from '../../../agent/src/core/contracts/health.js';
import { startAgent } from '../../helpers/agent-process.js';
import { runCli } from '../../helpers/cli.js';
import { noisyJpeg } from '../../helpers/inference.js';
import { failsAboveInput } from '../../helpers/onnx-faults.js';
import { tinyOnnx, tinyPackage } from '../../helpers/real-fleet.js';

/**
 * Issue #21 as a user meets it: a real daemon (`jetson-agent run`) with ONNX Runtime and
 * `inference.swapMode: replace`, three clients posting images without pause while models are
 * switched through the admin route (what `jetson-agent models activate` calls): a good switch, a
 * package whose golden images disagree, one whose warm-up fails, another good switch. Every
 * package goes through `jetson-fleet package create` and `jetson-agent models add`.
 */
interface Answer {
  readonly sent: number;
  readonly at: number;
  readonly status: number;
  readonly version: string | null;
  readonly body: string;
}
interface Seen {
  readonly at: number;
  readonly active: string | null;
  readonly state: string;
  readonly swap: { from: { version: string }; to: { version: string }; phase: string } | null;
  readonly loaded: number;
}

const nearestRank = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
};

t.test('replace mode under load: good switches, a golden mismatch and a warm-up failure, zero failed requests', async (t) => {
  const dir = t.testdir({ state: {}, pkgs: {} });
  const state = path.join(dir, 'state');
  const pkgs = path.join(dir, 'pkgs');
  const add = async (file: string): Promise<void> => {
    const r = await runCli(['models', 'add', file, '--state-dir', state, '--json']);
    if (r.code !== 0) throw new Error(`models add ${file}: ${r.stderr}${r.stdout}`);
  };
  const models = [
    ['1.0.0', tinyOnnx(3)],
    ['2.0.0', tinyOnnx(4)],
    // Warm-up runs on zeros; limit −1 makes the model's Gather index go out of range on any input.
    ['3.1.0', failsAboveInput(tinyOnnx(4), -1)],
    ['4.0.0', tinyOnnx(5)],
  ] as const;
  // Two at a time (the suite's machines have two cores).
  for (let i = 0; i < models.length; i += 2) {
    await Promise.all(models.slice(i, i + 2).map(async ([version, onnx]) => add((await tinyPackage(pkgs, 'det', version, onnx)).file)));
  }

  const agent = startAgent(['--state-dir', state], {
    JETSON_AGENT_DEVICE_ID: 'swap-1',
    JETSON_AGENT_INFERENCE_SWAP_MODE: 'replace',
    JETSON_AGENT_INFERENCE_MODEL: 'det@1.0.0',
    JETSON_AGENT_HEALTH_INTERVAL_SEC: '1',
  });
  t.teardown(() => agent.kill());
  const port = await agent.port();
  const base = `http://127.0.0.1:${port}`;
  await agent.waitLog(/"model":"det@1\.0\.0"[^\n]*"msg":"model activated"/);

  // Health snapshots over the embedded broker.
  const [, url] = await agent.waitLog(/"url":"(mqtt:\/\/127\.0\.0\.1:\d+)"[^\n]*embedded MQTT broker listening/);
  const ctl = await mqtt.connectAsync(url ?? '', { clientId: 'swap-watch' });
  t.teardown(() => ctl.endAsync(true));
  const snapshots: HealthSnapshot[] = [];
  let onSnapshot: () => void = () => undefined;
  ctl.on('message', (_topic, payload) => {
    if (payload.length === 0) return;
    snapshots.push(JSON.parse(payload.toString()) as HealthSnapshot);
    onSnapshot();
  });
  await ctl.subscribeAsync('jetson/v1/devices/swap-1/health', { qos: 1 });

  // The golden-mismatch package: expectations recorded from det@1.0.0 on a dark frame, weights of another seed.
  const dark = await sharp({ create: { width: 160, height: 96, channels: 3, background: { r: 20, g: 20, b: 24 } } }).jpeg().toBuffer();
  const rec = (await (await fetch(`${base}/v1/detect?maxDetections=1000`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: dark })).json()) as {
    detections: { classId: number; score: number; box: unknown }[];
  };
  t.ok(rec.detections.length > 0, `the golden image has ${rec.detections.length} expected detections`);
  const golden = { cases: [{ file: 'dark.jpg', image: dark, detections: rec.detections.map((d) => ({ classId: d.classId, score: d.score, box: d.box })) }] };
  await add((await tinyPackage(pkgs, 'det', '3.0.0', tinyOnnx(6), golden)).file);

  // Load: three clients without pause, and a watcher of GET /v1/models.
  const jpeg = await noisyJpeg(320, 200);
  const answers: Answer[] = [];
  const seen: Seen[] = [];
  let stop = false;
  let notify: () => void = () => undefined;
  const client = async (): Promise<void> => {
    while (!stop) {
      const sent = performance.now();
      const res = await fetch(`${base}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
      const body = await res.text();
      let version: string | null = null;
      if (res.status === 200) version = (JSON.parse(body) as { model: { version: string } }).model.version;
      answers.push({ sent, at: performance.now(), status: res.status, version, body: res.status === 200 ? '' : body });
      notify();
    }
  };
  const watcher = async (): Promise<void> => {
    while (!stop) {
      const m = (await (await fetch(`${base}/v1/models`)).json()) as { active: { version: string } | null; state: string; swap: Seen['swap']; loaded: unknown[] };
      seen.push({ at: performance.now(), active: m.active?.version ?? null, state: m.state, swap: m.swap, loaded: m.loaded.length });
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const more = (n: number): Promise<void> => {
    const target = answers.length + n;
    return new Promise((resolve) => {
      notify = () => answers.length >= target && resolve();
      notify();
    });
  };
  const loops = [client(), client(), client(), watcher()];

  const windows: { version: string; start: number; end: number; status: number; code?: string }[] = [];
  const activate = async (version: string): Promise<void> => {
    await more(5); // traffic on the serving model before each switch
    const start = performance.now();
    const res = await fetch(`${base}/v1/admin/models/activate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'det', version }) });
    const body = (await res.json()) as { error?: { code: string } };
    windows.push({ version, start, end: performance.now(), status: res.status, ...(body.error ? { code: body.error.code } : {}) });
  };
  await activate('2.0.0');
  await activate('3.0.0');
  await activate('3.1.0');
  await activate('4.0.0');
  await more(5);
  stop = true;
  await Promise.all(loops);

  t.same(
    windows.map((w) => `${w.version} ${w.status} ${w.code ?? ''}`),
    ['2.0.0 200 ', '3.0.0 500 GOLDEN_MISMATCH', '3.1.0 500 WARMUP_FAILED', '4.0.0 200 '],
    'the refused activations report their codes',
  );
  const failed = answers.filter((a) => a.status !== 200);
  t.same(failed.map((a) => `${a.status} ${a.body}`), [], `0 failed requests of ${answers.length}`);

  // Every request was answered by the model serving when it was answered: in arrival order the
  // answering versions are 1 → 2 → 4, each switch inside its activation, the refused ones never.
  const byArrival = [...answers].sort((a, b) => a.at - b.at);
  const runs = byArrival.map((a) => a.version).filter((v, i, all) => i === 0 || v !== all[i - 1]);
  t.same(runs, ['1.0.0', '2.0.0', '4.0.0'], 'answers in arrival order: det 1.0.0, then 2.0.0, then 4.0.0');
  const first = (v: string): Answer | undefined => byArrival.find((a) => a.version === v);
  const [w2, , , w4] = windows as [(typeof windows)[number], (typeof windows)[number], (typeof windows)[number], (typeof windows)[number]];
  t.ok((first('2.0.0')?.at ?? 0) > w2.start, '2.0.0 answers only after its activation began');
  t.ok((first('4.0.0')?.at ?? 0) > w4.start, '4.0.0 answers only after its activation began');
  t.same(
    [...new Set(answers.filter((a) => a.sent > w2.end && a.at < w4.start).map((a) => a.version))],
    ['2.0.0'],
    'between the two good switches, through both refusals and reloads, 2.0.0 answers',
  );
  t.same([...new Set(answers.filter((a) => a.sent > w4.end).map((a) => a.version))], ['4.0.0'], 'after the last switch, 4.0.0 answers');

  // GET /v1/models never claims a model that does not serve.
  const wrong = seen.filter((s) => s.loaded > 1 || (s.active === null ? s.state !== 'activating' || s.swap === null : s.swap !== null || /^3\./.test(s.active)));
  t.same(wrong, [], `${seen.length} GET /v1/models: one engine at most, a model named only when it serves, otherwise the swap in progress`);
  const named = seen.map((s) => s.active).filter((v): v is string => v !== null).filter((v, i, all) => i === 0 || v !== all[i - 1]);
  t.same(named, ['1.0.0', '2.0.0', '4.0.0'], '/v1/models names the same models in the same order');
  const refusedSeen = seen.filter((s) => s.swap?.to.version === '3.0.0' || s.swap?.to.version === '3.1.0').length;

  // Metrics and the switch latency during swaps (reported, never asserted: speed is for benchmarks).
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const value = (re: RegExp): number => Number(re.exec(metrics)?.[1] ?? NaN);
  const held = value(/^jetson_swap_held_requests_total (\d+)$/m);
  t.ok(held > 0, `${held} requests were held during the swaps`);
  t.notOk(/^jetson_swap_rejected_requests_total\{/m.test(metrics), 'no held request answered 503');
  const longest = value(/^jetson_swap_hold_longest_seconds ([\d.e-]+)$/m);
  t.ok(longest > 0, 'the longest hold is reported');
  const during = answers.filter((a) => windows.some((w) => a.at >= w.start && a.sent <= w.end)).map((a) => a.at - a.sent);
  const outside = answers.filter((a) => !windows.some((w) => a.at >= w.start && a.sent <= w.end)).map((a) => a.at - a.sent);
  t.comment(
    `switch latency: ${during.length} requests during the 4 swaps p50 ${nearestRank(during, 50).toFixed(1)} ms, p99 ${nearestRank(during, 99).toFixed(1)} ms, max ${Math.max(...during).toFixed(1)} ms; ` +
      `outside swaps (${outside.length}) p50 ${nearestRank(outside, 50).toFixed(1)} ms, p99 ${nearestRank(outside, 99).toFixed(1)} ms; held ${held}, longest hold ${(longest * 1000).toFixed(1)} ms; /v1/models showed a refused swap in progress ${refusedSeen} times`,
  );

  // The health snapshot reports the holds (over its intervals they add up to the counter).
  const heldInSnapshots = (): number => snapshots.reduce((n, s) => n + s.agent.inference.swap.heldRequests, 0);
  await new Promise<void>((resolve) => {
    onSnapshot = () => heldInSnapshots() >= held && resolve();
    onSnapshot();
  });
  t.equal(heldInSnapshots(), held, 'the health snapshots count the same held requests');
  t.ok(snapshots.every((s) => Value.Check(HealthSnapshotSchema, s)), 'every snapshot matches its schema');
  t.ok(snapshots.some((s) => (s.agent.inference.swap.longestHoldMs ?? 0) > 0), 'a snapshot reports the longest hold of its interval');

  agent.child.kill('SIGTERM');
  t.equal(await agent.exited, 0, agent.log().slice(-2000));
});

import t from 'tap';
import path from 'node:path';
import os from 'node:os';
import { readFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAgent } from '../../helpers/agent-process.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { artifactPath, launchBrowser } from '../../helpers/browser.js';

/**
 * The board console in a real browser against a real agent (demo model, the same picture as
 * README's curl example). The expected boxes are what /v1/detect answers for the same bytes.
 */
interface Det {
  label: string;
  classId: number;
  score: number;
  box: { x1: number; y1: number; x2: number; y2: number };
}
/** The little of the page's DOM the callbacks below touch (the test program has no DOM lib). */
interface El {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } };
}
interface Doc {
  getElementById(id: string): El;
  querySelectorAll(sel: string): { length: number };
}
const TOKEN = 'console-test-token';
const IMAGE = path.join(REPO_ROOT, 'samples', 'demo.jpg');

t.test('board console: token gate, Try it draws the API boxes, slider without re-upload, live charts, admin only with the token', async (t) => {
  const dir = t.testdir({ state: {} });
  const agent = startAgent(['--state-dir', path.join(dir, 'state')], { JETSON_AGENT_INFERENCE_TOKEN: TOKEN, JETSON_AGENT_INFERENCE_CONSOLE_SAMPLE_SEC: '1' });
  t.teardown(() => agent.kill());
  const port = await agent.port();
  await agent.waitLog(/"msg":"model activated"/);
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${TOKEN}` };

  const browser = await launchBrowser();
  t.teardown(() => browser.dispose());
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const detectCalls: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/v1/detect')) detectCalls.push(r.url());
  });
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.accept();
  });

  // 1. Without the token: the page loads (it carries no data) and asks for the token.
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-auth="needed"]');
  t.ok(await page.isVisible('#auth'), 'the token form is shown');
  t.equal(await page.evaluate(async () => (await fetch('/v1/admin/models/rollback', { method: 'POST' })).status), 401, 'admin from the page without the token: refused');

  // A page of another origin (another port) posting to the admin route, as a CSRF attempt
  // would: the browser sends it (a "simple" no-cors POST), the agent refuses it.
  const evil = http.createServer((_req, res) => res.end('<!doctype html><title>elsewhere</title>'));
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
  t.teardown(() => evil.close());
  const other = await browser.newPage();
  await other.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
  await other.evaluate(async (target) => {
    await fetch(`${target}/v1/admin/models/rollback`, { method: 'POST', mode: 'no-cors', body: 'x' }).catch(() => undefined);
  }, base);
  await other.close();
  const metrics = await (await fetch(`${base}/metrics`, { headers: auth })).text();
  t.match(metrics, /jetson_errors_total\{code="CROSS_ORIGIN_REFUSED",route="\/v1\/admin\/models\/rollback"\} 1/, 'the cross-site POST reached the agent and was refused');

  // 2. With the token: the model panel.
  await page.fill('#token-input', TOKEN);
  await page.click('#token-form button[type="submit"]');
  await page.waitForSelector('body[data-auth="ok"] #model-ref');
  t.equal(await page.textContent('#model-ref'), 'demo-yolov3@generated-1');
  t.match(await page.textContent('#model-details'), /yolov3[\s\S]*1248×384×3 BGR[\s\S]*ONNX Runtime \(CPU\)[\s\S]*FP32[\s\S]*car[\s\S]*cyclist[\s\S]*pedestrian/);
  t.equal(await page.getAttribute('#models tr[data-active="true"]', 'data-ref'), 'demo-yolov3@generated-1', 'the serving model is marked');

  // 3. Try it: the boxes drawn are the API's, for the same bytes.
  const bytes = readFileSync(IMAGE);
  const api = (await (await fetch(`${base}/v1/detect?threshold=0.05`, { method: 'POST', headers: { ...auth, 'content-type': 'image/jpeg' }, body: bytes })).json()) as { detections: Det[] };
  await page.setInputFiles('#tryit-file', IMAGE);
  await page.waitForSelector('#tryit-canvas[data-uploads="1"]');
  const rows = async (): Promise<Det[]> =>
    page.$$eval('#detections tr', (trs) =>
      trs.map((tr) => {
        const d = (tr as unknown as El).dataset;
        return { label: d.label ?? '', classId: Number(d.classId), score: Number(d.score), box: { x1: Number(d.x1), y1: Number(d.y1), x2: Number(d.x2), y2: Number(d.y2) } };
      }),
    );
  const threshold = Number(await page.inputValue('#threshold'));
  t.equal(threshold, 0.3, "the slider starts at the model's threshold");
  const expected = api.detections.filter((d) => d.score >= threshold);
  t.ok(expected.length > 0, `the demo model finds ${expected.length} boxes at ${threshold}`);
  t.same(await rows(), expected, 'the listed detections are exactly the API answer at the slider threshold');
  t.equal(await page.getAttribute('#tryit-canvas', 'data-boxes'), String(expected.length));
  t.equal(await page.getAttribute('#tryit-canvas', 'data-image'), '1280x720');
  // The last box drawn is on top: its bottom edge has its class colour in the canvas pixels.
  const last = expected[expected.length - 1]!;
  const pixel = async (): Promise<number[]> =>
    page.evaluate(({ x, y }) => {
      const c = (globalThis as unknown as { document: Doc }).document.getElementById('tryit-canvas');
      return [...Array.from(c.getContext('2d').getImageData(x, y, 1, 1).data)];
    }, { x: Math.round((last.box.x1 + last.box.x2) / 2), y: Math.min(719, Math.round(last.box.y2)) });
  const palette = [
    [0xf9, 0x41, 0x44],
    [0x43, 0xaa, 0x8b],
    [0xf9, 0xc7, 0x4f],
  ];
  t.same((await pixel()).slice(0, 3), palette[last.classId], `box edge drawn in the colour of ${last.label}`);

  // The slider re-filters in the page: no second upload.
  const mid = [...new Set(api.detections.map((d) => d.score))].sort((a, b) => a - b)[Math.floor(api.detections.length / 2)]!;
  await page.fill('#threshold', String(Math.ceil(mid * 100) / 100));
  const t2 = Number(await page.inputValue('#threshold'));
  t.same(await rows(), api.detections.filter((d) => d.score >= t2), `at ${t2} the list is the API answer filtered`);
  await page.fill('#threshold', '1');
  t.equal(await page.getAttribute('#tryit-canvas', 'data-boxes'), '0');
  t.notSame((await pixel()).slice(0, 3), palette[last.classId], 'the box is gone from the canvas');
  t.equal(detectCalls.length, 1, 'the image was sent once');
  await page.fill('#threshold', String(threshold));

  // The curl line shown works verbatim (from the image's directory, with $TOKEN set).
  const curl = (await page.textContent('#curl')) ?? '';
  t.match(curl, /^curl -s -X POST --data-binary @demo\.jpg -H 'Content-Type: image\/jpeg' -H "Authorization: Bearer \$TOKEN" 'http:\/\/127\.0\.0\.1:\d+\/v1\/detect\?threshold=0\.30'$/);
  const work = path.join(os.tmpdir(), `console-curl-${process.pid}`);
  mkdirSync(work, { recursive: true });
  copyFileSync(IMAGE, path.join(work, 'demo.jpg'));
  const viaCurl = JSON.parse(execFileSync('sh', ['-c', curl], { cwd: work, env: { PATH: process.env.PATH ?? '', TOKEN } }).toString()) as { detections: Det[] };
  t.same(viaCurl.detections, expected, 'curl answers what the page draws');

  // 4. Live board: points keep arriving over the one stream; one CPU series per core.
  const points = async (): Promise<number> => Number((await page.getAttribute('#live', 'data-points')) ?? '0');
  const before = await points();
  await page.waitForFunction((n) => Number((globalThis as unknown as { document: Doc }).document.getElementById('live').dataset.points) >= n + 2, before, { timeout: 30_000 });
  t.ok((await points()) >= before + 2, 'live health updates arrive');
  const cores = await page.$$eval('#board-charts figure:first-child .legend span', (s) => s.map((e) => (e as unknown as El).dataset.name));
  t.equal(cores.length, os.cpus().length, `a CPU series per core (${cores.join(' ')})`);
  t.match(await page.textContent('#ram-text'), /^RAM [\d.]+ [KMG]iB \/ [\d.]+ [KMG]iB/);
  // Serving numbers: the requests made above are in /metrics' counters.
  await page.waitForFunction(() => Number((globalThis as unknown as { document: Doc }).document.getElementById('s-total').textContent) >= 3, undefined, { timeout: 30_000 });

  // 5. Admin with the token: re-activate, then roll back; the history shows the switch.
  const historyRows = async (): Promise<number> => (await page.$$('#history tr[data-kind]')).length;
  const h0 = await historyRows();
  await page.click('#models tr[data-active="true"] button[data-action="activate"]');
  await page.waitForSelector('#admin-status[data-state="ok"]:has-text("serving demo-yolov3@generated-1")', { timeout: 60_000 });
  t.match(dialogs[0], /Activate demo-yolov3@generated-1/, 'asked before activating');
  await page.waitForFunction((n) => (globalThis as unknown as { document: Doc }).document.querySelectorAll('#history tr[data-kind]').length > n, h0);
  t.equal(await page.getAttribute('#history tr:first-child', 'data-kind'), 'switch', 'the switch is in the history, newest first');
  t.notOk(await page.isDisabled('#rollback'), 'a previous model now exists');
  await page.click('#rollback');
  await page.waitForSelector('#admin-status:has-text("rolled back")', { timeout: 60_000 });
  await page.screenshot({ path: artifactPath('console-board.png'), fullPage: true });

  // 6. Forget the token: the same button is refused.
  await page.click('#token-button');
  await page.click('#token-forget');
  await page.waitForSelector('body[data-auth="needed"]');
  await page.click('#models button[data-action="activate"]');
  await page.waitForSelector('#admin-status[data-state="error"]');
  t.match(await page.textContent('#admin-status'), /^UNAUTHORIZED/);
  t.same(errors, [], 'no script errors');
  t.ok(artifactPath('console-board.png'), 'screenshot kept in .tap/artifacts/');
});

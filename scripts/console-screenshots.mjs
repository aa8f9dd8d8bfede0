#!/usr/bin/env node
// Regenerates docs/images/console-board.png: the board console of an agent running on a
// SIMULATED Jetson Orin Nano (JetPack 6.2 fixture tree from test/fixtures/, with its GPU load,
// thermal zones and INA3221 currents rewritten every second, and the tegrastats test double),
// serving the demo model, after a few requests with samples/demo.jpg. CPU and RAM are this
// machine's (/proc is never mirrored). Needs `npm run build` and /usr/bin/chromium.
// Usage: node scripts/console-screenshots.mjs [OUT.png]
/* global setInterval, clearInterval, setTimeout, fetch */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const out = process.argv[2] ?? path.join(root, 'docs', 'images', 'console-board.png');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'console-shot-'));
const host = path.join(tmp, 'root');
cpSync(path.join(root, 'test/fixtures/boards/orin-nano-jp62'), host, { recursive: true });
cpSync(path.join(root, 'test/fixtures/health/orin-nano-jp6/sys'), path.join(host, 'sys'), { recursive: true });
const lines = readFileSync(path.join(root, 'test/fixtures/tegrastats/reference-lines.tsv'), 'utf8').split('\n').filter((l) => l.startsWith('orin-nano-jp6'));
writeFileSync(path.join(tmp, 'lines.tsv'), lines.join('\n') + '\n');

// A slowly wandering board: GPU load (per mille), zone temperatures (m°C), rail currents (mA).
const files = (dir, re) => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).filter((f) => re.test(f)).map((f) => path.join(dir, f)) : []);
const gpu = path.join(host, 'sys/devices/platform/bus@0/17000000.gpu/load');
const temps = files(path.join(host, 'sys/devices/virtual/thermal'), /temp$/);
const currents = files(path.join(host, 'sys/bus/i2c/devices'), /curr\d_input$/);
let step = 0;
const wander = setInterval(() => {
  step++;
  const w = (base, amp, phase) => Math.round(base + amp * Math.sin(step / 6 + phase) + amp * 0.3 * Math.sin(step / 1.7 + phase));
  writeFileSync(gpu, String(Math.max(0, w(450, 350, 0))));
  temps.forEach((f, i) => writeFileSync(f, String(w(48000 + 1500 * i, 3000, i))));
  currents.forEach((f, i) => writeFileSync(f, String(Math.max(0, w(700 - 150 * i, 250, i)))));
}, 1000);

const agent = spawn(process.execPath, [path.join(root, 'agent/dist/main.js'), 'run', '--root', host, '--state-dir', path.join(tmp, 'state')], {
  env: {
    ...process.env,
    JETSON_AGENT_INFERENCE_PORT: '0',
    JETSON_AGENT_MQTT_EMBEDDED_PORT: '0',
    JETSON_AGENT_INFERENCE_CONSOLE_SAMPLE_SEC: '1',
    JETSON_AGENT_HEALTH_TEGRASTATS_PATH: path.join(root, 'test/fixtures/bin/tegrastats'),
    TEGRASTATS_DOUBLE_LINES: path.join(tmp, 'lines.tsv'),
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let log = '';
agent.stdout.on('data', (d) => (log += d));
agent.stderr.on('data', (d) => (log += d));
const waitLog = async (re) => {
  for (let i = 0; i < 1200; i++) {
    const m = re.exec(log);
    if (m) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`agent did not log ${re}:\n${log}`);
};
const profile = path.join(tmp, 'profile');
let ctx;
try {
  const port = Number((await waitLog(/"port":(\d+)[^\n]*inference endpoint listening/))[1]);
  await waitLog(/"msg":"model activated"/);
  const base = `http://127.0.0.1:${port}`;
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const page = await ctx.newPage();
  await page.goto(`${base}/`);
  await page.waitForSelector('#model-ref');
  await page.setInputFiles('#tryit-file', path.join(root, 'samples/demo.jpg'));
  await page.waitForSelector('#tryit-canvas[data-uploads="1"]');
  const jpeg = readFileSync(path.join(root, 'samples/demo.jpg'));
  for (let i = 0; i < 45; i++) {
    await fetch(`${base}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
    await new Promise((r) => setTimeout(r, 500 + 400 * Math.sin(i / 4)));
  }
  // A palette PNG: a third of the size, no visible loss on a UI screenshot.
  await sharp(await page.screenshot({ fullPage: true })).png({ palette: true, quality: 90, effort: 10 }).toFile(out);
  console.log(`wrote ${out}`);
} finally {
  clearInterval(wander);
  await ctx?.close();
  agent.kill('SIGTERM');
  await new Promise((r) => agent.on('close', r));
  rmSync(tmp, { recursive: true, force: true });
}

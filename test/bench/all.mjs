// `npm run bench`: every benchmark step, one after the other (docs/benchmarks.md). The serving
// bench (run.ts) and the idle footprint (mqtt-footprint.mjs) run on Node and on the pinned Bun
// (JetPack 4's runtime, where a Nano's 4 GB are shared by CPU and GPU), so each table has a Node
// and a Bun row side by side. `--dry-run` lists the steps and their commands without running
// any; `--only=NAME[,NAME]` runs a subset (names as listed).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinnedBun } from './with-bun.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const node = process.execPath;
const ts = ['--import=./scripts/register-ts.mjs'];
const withBun = 'test/bench/with-bun.mjs';
// The agent unit sets MALLOC_ARENA_MAX=2 (systemd/jetson-agent.service); the in-process benches do too.
const arena = { MALLOC_ARENA_MAX: '2' };

/** @type {{ name: string, cmd: string, args: string[], env?: Record<string, string>, bun?: true }[]} */
export const STEPS = [
  { name: 'serving-node', cmd: node, args: [...ts, 'test/bench/run.ts'], env: arena },
  { name: 'serving-bun', cmd: node, args: [withBun, 'test/bench/run.ts'], env: arena, bun: true },
  { name: 'eval', cmd: node, args: [...ts, 'test/bench/eval.ts'], env: arena },
  { name: 'fleet-scale', cmd: node, args: ['test/bench/fleet-scale.mjs'] },
  { name: 'footprint-node', cmd: node, args: ['test/bench/mqtt-footprint.mjs'] },
  { name: 'footprint-bun', cmd: node, args: ['test/bench/mqtt-footprint.mjs'], env: { BENCH_RUNTIME: 'bun' }, bun: true },
  { name: 'footprint-fleet-node', cmd: node, args: ['test/bench/mqtt-footprint.mjs'], env: { BENCH_BROKER: 'mosquitto' } },
  { name: 'footprint-fleet-bun', cmd: node, args: ['test/bench/mqtt-footprint.mjs'], env: { BENCH_BROKER: 'mosquitto', BENCH_RUNTIME: 'bun' }, bun: true },
];

const show = (s) => `${Object.entries(s.env ?? {}).map(([k, v]) => `${k}=${v} `).join('')}node ${s.args.join(' ')}`;

const argv = process.argv.slice(2);
const dry = argv.includes('--dry-run');
const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const unknown = only?.filter((n) => !STEPS.some((s) => s.name === n)) ?? [];
if (unknown.length) {
  console.error(`unknown bench step(s): ${unknown.join(', ')}; the steps are: ${STEPS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const steps = STEPS.filter((s) => !only || only.includes(s.name));
const bun = pinnedBun();
for (const s of steps) {
  if (s.bun && !bun.exe) {
    console.error(`${s.name}: needs the pinned Bun (${bun.pkg}, an optional dependency npm ci installs on linux ${process.arch} glibc); run npm ci, or leave it out with --only=`);
    process.exit(1);
  }
}
if (dry) {
  for (const s of steps) console.log(`${s.name.padEnd(22)} ${show(s)}`);
  if (bun.exe) console.log(`(Bun steps run ${path.relative(root, bun.exe)})`);
  process.exit(0);
}
for (const s of steps) {
  console.log(`\n== ${s.name}: ${show(s)}`);
  const code = await new Promise((resolve) => spawn(s.cmd, s.args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...s.env } }).on('exit', (c) => resolve(c ?? 1)));
  if (code !== 0) {
    console.error(`bench step ${s.name} failed (exit ${code}); later steps not run. Rerun from there with --only=`);
    process.exit(code);
  }
}

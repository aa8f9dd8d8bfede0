import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { FLEET_JS, MAIN_JS, cleanEnv } from '../../helpers/cli.js';
import { generateYoloV3Onnx } from '../../../agent/src/models/onnx/generate.js';
import { writeFileSync } from 'node:fs';

/**
 * The CLI on a real pseudo-terminal (script(1) from util-linux): colour and redrawn progress
 * lines on a TTY, none with NO_COLOR (colour) or --json (both), every drawn line under 80 columns.
 */
function onPty(argv: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const cmd = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const base = cleanEnv();
    // The test runner's own colour settings must not decide what the CLI does here.
    delete base.NO_COLOR;
    delete base.FORCE_COLOR;
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { ...base, TERM: 'xterm', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}
const ESC = '\u001b';
const visible = (s: string): string => s.split(`${ESC}[K`).join('').replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');

t.test('package create on a TTY: a coloured progress line redrawn in place, under 80 columns; NO_COLOR and --json honoured', async (t) => {
  t.ok(existsSync('/usr/bin/script'), 'script(1) is installed (scripts/system-deps.json: bsdutils)');
  const dir = t.testdir();
  const onnx = path.join(dir, 'm.onnx');
  writeFileSync(onnx, generateYoloV3Onnx({ height: 64, width: 96, classes: 2, seed: 1, scoreThreshold: 0.3 }));
  const args = (out: string) => [process.execPath, FLEET_JS, 'package', 'create', '--model', onnx, '--name', 'm', '--version', '1', '--network', 'yolov3', '--classes', 'a,b', '--input', '3,64,96', '--out', path.join(dir, out)];

  const tty = await onPty(args('a.tar.gz'));
  t.equal(tty.code, 0, tty.out);
  t.ok(tty.out.includes(`\r${ESC}[K`), 'the line is redrawn in place');
  t.ok(tty.out.includes(`${ESC}[36mpackage a.tar.gz${ESC}[39m`), 'the label is coloured');
  const frames = tty.out.split(/\r/).map(visible).filter((f) => f.startsWith('package a.tar.gz'));
  t.ok(frames.length >= 4, `${frames.length} frames`);
  t.ok(frames.every((f) => f.trimEnd().length < 80), 'every frame under 80 columns');
  t.match(frames.at(-1), /^package a\.tar\.gz done \[#{12}\] 100% \d+s/);

  const plain = await onPty(args('b.tar.gz'), { NO_COLOR: '1' });
  t.equal(plain.code, 0, plain.out);
  t.ok(plain.out.includes(`\r${ESC}[K`), 'NO_COLOR still redraws');
  t.notOk(new RegExp(`${ESC}\\[\\d+m`).test(plain.out), 'but without colour');

  const json = await onPty([...args('c.tar.gz'), '--json']);
  t.equal(json.code, 0, json.out);
  t.notOk(json.out.includes(ESC), '--json: no escape sequence at all');
  t.match(JSON.parse(/^\{[\s\S]*?^\}/m.exec(json.out.replace(/\r/g, ''))?.[0] ?? ''), { sha256: /^[0-9a-f]{64}$/ }, 'stdout is the JSON document');
});

t.test('tables and errors on a TTY are coloured; on a pipe they are not', async (t) => {
  const dir = t.testdir({ state: {} });
  const err = await onPty([process.execPath, MAIN_JS, 'models', 'remove', 'nope@1', '--state-dir', path.join(dir, 'state')]);
  t.equal(err.code, 1);
  t.ok(err.out.includes(`${ESC}[31m${ESC}[1mMODEL_NOT_FOUND${ESC}[22m${ESC}[39m`), 'the error code in bold red');
  const noColor = await onPty([process.execPath, MAIN_JS, 'models', 'remove', 'nope@1', '--state-dir', path.join(dir, 'state')], { NO_COLOR: '1' });
  t.match(noColor.out, /^jetson-agent: MODEL_NOT_FOUND: /m);
  t.notOk(noColor.out.includes(ESC));
});

/**
 * The converter doubles themselves: they must refuse what the real tools refuse (per the
 * documented usage), or the conversion tests prove nothing. These are checks of the test
 * fixtures, not of NVIDIA's tools.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DOUBLES } from '../../helpers/convert-fixture.js';

function run(tool: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(path.join(DOUBLES, tool), args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('tlt-converter double: strict flags, input checks, engine written', async (t) => {
  const dir = t.testdir({ 'm.etlt': 'x' });
  const ok = ['-k', 'key', '-d', '3,384,1248', '-o', 'BatchedNMS', '-e', 'out.engine', '-t', 'fp16', '-m', '1', '-w', '1073741824', '-i', 'nchw', 'm.etlt'];
  const good = run('tlt-converter', ok, dir);
  t.equal(good.code, 0, good.stderr);
  t.ok(existsSync(path.join(dir, 'out.engine')));
  const bad: [string, string[], RegExp][] = [
    ['unknown flag', ['-z', ...ok], /invalid option -- 'z'/],
    ['long flag', ['--key', 'x', ...ok], /unrecognized option '--key'/],
    ['no key', ok.slice(2), /-k\) is required/],
    ['no outputs', ok.filter((_, i) => i !== 4 && i !== 5), /output nodes \(-o\) are required/],
    ['bad dims', ok.map((a) => (a === '3,384,1248' ? '3x384x1248' : a)), /invalid input dimensions/],
    ['bad datatype', ok.map((a) => (a === 'fp16' ? 'half' : a)), /invalid engine datatype "half"/],
    ['bad order', ok.map((a) => (a === 'nchw' ? 'chw' : a)), /invalid input dimension ordering/],
    ['bad batch', ok.map((a) => (a === '1' ? 'one' : a)), /-m expects a non-negative integer/],
    ['missing input', [...ok.slice(0, -1), 'nope.etlt'], /input file nope\.etlt does not exist/],
    ['two inputs', [...ok, 'm.etlt'], /one input file expected/],
    ['bad profile', ['-k', 'k', '-p', 'Input,1x3x8x8,4x3x8x8', '-o', 'BatchedNMS', 'm.etlt'], /invalid optimization profile/],
    ['min > max profile', ['-k', 'k', '-p', 'Input,8x3x8x8,4x3x8x8,2x3x8x8', '-o', 'BatchedNMS', 'm.etlt'], /min <= opt <= max/],
    ['int8 without cache', ['-k', 'k', '-d', '3,8,8', '-o', 'N', '-t', 'int8', 'm.etlt'], /calibration cache \.\/cal\.bin does not exist/],
  ];
  for (const [label, args, re] of bad) {
    const r = run('tlt-converter', args, dir);
    t.equal(r.code, 1, `${label}: exit 1`);
    t.match(r.stderr, re, label);
    t.match(r.stderr, /usage: tlt-converter/, `${label}: prints the usage`);
  }
  const plugin = run('tao-converter', ok, dir, { CONVERTER_DOUBLE_FAIL: 'plugin' });
  t.equal(plugin.code, 1);
  t.match(plugin.stderr, /^getPluginCreator could not find plugin BatchTilePlugin_TRT version 1$/m);
});

t.test('trtexec double: strict flags, shapes, engine written', async (t) => {
  const dir = t.testdir({ 'm.onnx': 'x' });
  const ok = ['--onnx=m.onnx', '--saveEngine=e.engine', '--minShapes=Input:1x3x8x8', '--optShapes=Input:2x3x8x8', '--maxShapes=Input:4x3x8x8', '--memPoolSize=workspace:1024', '--fp16'];
  const good = run('trtexec', ok, dir);
  t.equal(good.code, 0, good.stderr);
  t.match(readFileSync(path.join(dir, 'e.engine'), 'utf8'), /TRTEXEC-DOUBLE-ENGINE/);
  const bad: [string, string[], RegExp][] = [
    ['unknown', [...ok, '--bogus'], /Unknown option: --bogus/],
    ['space-separated value', ['--onnx', 'm.onnx'], /needs a value/],
    ['missing model', ok.map((a) => (a === '--onnx=m.onnx' ? '--onnx=none.onnx' : a)), /Cannot open ONNX file: none\.onnx/],
    ['partial shapes', ok.filter((a) => !a.startsWith('--maxShapes')), /go together/],
    ['bad shape', ok.map((a) => (a.startsWith('--optShapes') ? '--optShapes=Input:2,3,8,8' : a)), /Invalid --optShapes/],
    ['min > opt', ok.map((a) => (a.startsWith('--minShapes') ? '--minShapes=Input:3x3x8x8' : a)), /min <= opt <= max/],
    ['calib without int8', [...ok, '--calib=c.bin'], /--calib needs --int8/],
    ['flag with value', [...ok.slice(0, -1), '--fp16=1'], /takes no value/],
  ];
  for (const [label, args, re] of bad) {
    const r = run('trtexec', args, dir);
    t.equal(r.code, 1, `${label}: exit 1`);
    t.match(r.stderr, re, label);
  }
});

import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ERROR_CODES } from '../../../agent/src/core/error-codes.js';
import { REPO_ROOT, cleanEnv } from '../../helpers/cli.js';
import { bunExecutable, pinnedBunVersion } from '../../helpers/runtime.js';

/**
 * bin/jetson-agent, the launcher the systemd unit, /usr/local/bin/jetson-agent and `npm start`
 * use. The board's C library is what getconf(1) reports; a double of getconf on PATH plays
 * boards this machine is not (it answers only the two names the launcher asks for, and fails
 * on anything else, as getconf does for an unknown name).
 */
const LAUNCHER = path.join(REPO_ROOT, 'bin', 'jetson-agent');

function getconfDouble(dir: string, answers: { LONG_BIT?: string; GNU_LIBC_VERSION?: string | null }): string {
  const bin = path.join(dir, 'getconf-double');
  mkdirSync(bin, { recursive: true });
  const line = (name: string, v: string | null | undefined): string =>
    v === null ? `  ${name}) echo "getconf: Unrecognized variable '${name}'" >&2; exit 1 ;;` : `  ${name}) echo '${v ?? ''}' ;;`;
  writeFileSync(
    path.join(bin, 'getconf'),
    [
      '#!/bin/sh',
      '# getconf double (test/integration/release/launcher.test.ts): a board other than this machine.',
      '[ $# -eq 1 ] || { echo "getconf double: expected one name, got: $*" >&2; exit 2; }',
      'case $1 in',
      line('LONG_BIT', answers.LONG_BIT ?? '64'),
      line('GNU_LIBC_VERSION', answers.GNU_LIBC_VERSION === undefined ? 'glibc 2.27' : answers.GNU_LIBC_VERSION),
      '  *) echo "getconf: Unrecognized variable \'$1\'" >&2; exit 1 ;;',
      'esac',
      '',
    ].join('\n'),
  );
  chmodSync(path.join(bin, 'getconf'), 0o755);
  return bin;
}

function launch(args: string[], env: Record<string, string> = {}, launcher = LAUNCHER) {
  // tap's loader in NODE_OPTIONS is for Node children only.
  const base = cleanEnv();
  delete base.NODE_OPTIONS;
  return spawnSync(launcher, args, { encoding: 'utf8', env: { ...base, ...env }, cwd: REPO_ROOT });
}

const bun = bunExecutable();

t.test('shellcheck: the launcher and its runtime library are clean POSIX sh', async (t) => {
  const r = spawnSync('shellcheck', ['-x', '-s', 'sh', LAUNCHER, path.join(REPO_ROOT, 'bin', 'jetson-agent-plugin-helper'), path.join(REPO_ROOT, 'bin', 'runtime.sh')], { encoding: 'utf8', cwd: REPO_ROOT });
  t.equal(r.status, 0, r.stdout + r.stderr);
});

t.test('every code the launcher can print is a documented error code', async (t) => {
  const codes = [...new Set([...readFileSync(path.join(REPO_ROOT, 'bin', 'runtime.sh'), 'utf8').matchAll(/ja_fail ([A-Z_]+) "/g)].map((m) => m[1] ?? ''))];
  t.same(codes.sort(), ['RUNTIME_NOT_FOUND', 'RUNTIME_UNSUPPORTED', 'USAGE']);
  for (const c of codes) t.ok(Object.hasOwn(ERROR_CODES, c), `${c} is in agent/src/core/error-codes.ts`);
});

t.test('automatic choice: Node where glibc >= 2.28, the release\'s pinned Bun on JetPack 4\'s 2.27', async (t) => {
  const here = launch(['version', '--json']);
  t.equal(here.status, 0, here.stderr);
  t.equal((JSON.parse(here.stdout) as { runtime: { name: string } }).runtime.name, 'node', 'this machine (glibc >= 2.28) runs Node');
  if (!bun) return t.fail('no Bun in node_modules/@oven/bun-linux-<arch>: npm ci installs it (optional dependency)');
  const jp4 = launch(['version', '--json'], { PATH: `${getconfDouble(t.testdir(), { GNU_LIBC_VERSION: 'glibc 2.27' })}:${process.env.PATH ?? ''}` });
  t.equal(jp4.status, 0, jp4.stderr);
  t.match((JSON.parse(jp4.stdout) as { runtime: unknown }).runtime, { name: 'bun', version: pinnedBunVersion(), nodeCompat: String }, 'glibc 2.27 runs the pinned Bun');
});

t.test('JETSON_AGENT_RUNTIME picks the runtime and is not passed to the agent as configuration', async (t) => {
  if (!bun) return t.fail('no Bun in node_modules/@oven/bun-linux-<arch>: npm ci installs it');
  const r = launch(['config', 'print', '--json'], { JETSON_AGENT_RUNTIME: 'bun', JETSON_AGENT_STATE_DIR: t.testdir() });
  t.equal(r.status, 0, r.stderr);
  t.ok((JSON.parse(r.stdout) as { config: unknown }).config, 'config print ran (an unknown JETSON_AGENT_* variable would be a config error)');
  const v = launch(['version', '--json'], { JETSON_AGENT_RUNTIME: bun });
  t.equal((JSON.parse(v.stdout) as { runtime: { name: string } }).runtime.name, 'bun', 'an absolute path works too');
  const bad = launch(['version', '--json'], { JETSON_AGENT_RUNTIME: 'deno' });
  t.equal(bad.status, 2);
  t.equal((JSON.parse(bad.stdout) as { error: { code: string } }).error.code, 'USAGE');
});

t.test('a board neither runtime fits stops with RUNTIME_UNSUPPORTED naming the board, its glibc and what is needed', async (t) => {
  const host = os.hostname();
  for (const [what, answers, expect] of [
    ['glibc 2.16 (older than Bun\'s 2.17)', { GNU_LIBC_VERSION: 'glibc 2.16' }, /has glibc 2\.16: the agent needs glibc >= 2\.27 on a 64-bit userspace .*Bun needs glibc >= 2\.17, Node\.js >= 20 needs >= 2\.28/],
    ['glibc 2.24 (Bun runs, the native modules do not)', { GNU_LIBC_VERSION: 'glibc 2.24' }, /has glibc 2\.24: the agent needs glibc >= 2\.27/],
    ['a 32-bit userspace', { LONG_BIT: '32' }, /has a 32-bit userspace \(glibc 2\.27\)/],
    ['no glibc (musl)', { GNU_LIBC_VERSION: null }, /has no GNU C library/],
  ] as const) {
    const r = launch(['detect', '--json'], { PATH: `${getconfDouble(t.testdir(), answers)}:${process.env.PATH ?? ''}` });
    t.equal(r.status, 1, `${what}: exit 1`);
    t.match(r.stderr, new RegExp(`^jetson-agent: RUNTIME_UNSUPPORTED: ${host.replace(/[.]/g, '\\.')} \\(${os.arch() === 'x64' ? 'x86_64' : 'aarch64'}\\) `), `${what}: names the board`);
    t.match(r.stderr, expect, `${what}: says what it has and what is needed`);
    t.match(r.stderr, /docs\/provisioning\.md "Runtimes"/, `${what}: says where to read on`);
    const json = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
    t.equal(json.error.code, 'RUNTIME_UNSUPPORTED', `${what}: --json gets the error on stdout`);
    t.match(json.error.message, expect);
  }
});

t.test('no runtime installed for the board: RUNTIME_NOT_FOUND says where it looked', async (t) => {
  // A release without node_modules, and a PATH with only the tools the launcher itself uses.
  const dir = t.testdir();
  const release = path.join(dir, 'release');
  cpSync(path.join(REPO_ROOT, 'bin'), path.join(release, 'bin'), { recursive: true });
  const tools = getconfDouble(dir, { GNU_LIBC_VERSION: 'glibc 2.27' });
  for (const tool of ['sh', 'readlink', 'dirname', 'sed', 'tr', 'uname']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, path.join(tools, tool));
  }
  const r = launch(['version'], { PATH: tools }, path.join(release, 'bin', 'jetson-agent'));
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /^jetson-agent: RUNTIME_NOT_FOUND: .* has glibc 2\.27 and no runtime for it: Bun \(needs glibc >= 2\.17\) is not in the release \(.*\/release\/node_modules\/@oven\/bun-linux-/);
  const node = launch(['version'], { PATH: tools, JETSON_AGENT_RUNTIME: 'node' }, path.join(release, 'bin', 'jetson-agent'));
  t.equal(node.status, 1);
  t.match(node.stderr, /RUNTIME_NOT_FOUND: JETSON_AGENT_RUNTIME asks for Node\.js, but neither \/opt\/node\/bin\/node nor node on PATH exists/);
});

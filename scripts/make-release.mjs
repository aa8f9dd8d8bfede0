#!/usr/bin/env node
// Release tarball the Ansible role installs (issue #8): built agent/dist + production
// node_modules + package.json (+ systemd/, provisioning/, docs/). `npm pack` alone carries
// no dependencies, and boards are often offline, so everything the agent needs is inside.
//
//   node scripts/make-release.mjs [--arch arm64|x64] [--out DIR]
//
// Prints the tarball path. Native parts for other platforms (onnxruntime-node ships
// darwin/win32 binaries too) are left out. sharp's native package is per platform and npm
// installs only the host's: for an arm64 release on an x86 machine run
// `npm ci --omit=dev --os=linux --cpu=arm64` in a clean checkout first; this script refuses
// to build a release whose native packages do not match --arch. The release carries the Bun
// the lockfile pins for its arch (@oven/bun-linux-<arch>, an optional dependency): the runtime
// of boards whose glibc is too old for Node.js (JetPack 4), started by bin/jetson-agent. An arm64
// release whose native files need a glibc newer than JetPack 4's 2.27 is refused (release-glibc.mjs).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const hostArch = { arm64: 'arm64', x64: 'x64' }[process.arch];
const arch = opt('--arch', hostArch ?? 'arm64');
if (arch !== 'arm64' && arch !== 'x64') {
  console.error(`make-release: --arch must be arm64 or x64, got ${arch}`);
  process.exit(2);
}
const outDir = path.resolve(opt('--out', path.join(root, 'dist')));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const name = `jetson-agent-${pkg.version}-linux-${arch}`;

const run = (cmd, argv, options = {}) => {
  const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.status !== 0) {
    console.error(`make-release: ${cmd} ${argv.join(' ')} failed:\n${r.stderr}`);
    process.exit(1);
  }
  return r.stdout;
};

// Always ship a fresh build of exactly these sources.
run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json']);

// Production dependency closure as npm resolves it (no network).
const prodDirs = run('npm', ['ls', '--omit=dev', '--all', '--parseable'])
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && path.resolve(l) !== root);

const sharpNative = path.join(root, 'node_modules', '@img', `sharp-linux-${arch}`);
if (pkg.dependencies?.sharp && !existsSync(sharpNative)) {
  console.error(
    `make-release: node_modules has no @img/sharp-linux-${arch} (npm installed the host's native packages only).\n` +
      `Run \`npm ci --omit=dev --os=linux --cpu=${arch}\` in a clean checkout, then this script again.`,
  );
  process.exit(1);
}

const bunPackage = `@oven/bun-linux-${arch === 'arm64' ? 'aarch64' : 'x64'}`;
if (pkg.optionalDependencies?.[bunPackage] && !existsSync(path.join(root, 'node_modules', bunPackage, 'bin', 'bun'))) {
  console.error(
    `make-release: node_modules has no ${bunPackage} (the JetPack 4 runtime; npm skips optional packages of other platforms, and --omit=optional drops it).\n` +
      `Run \`npm ci --omit=dev --os=linux --cpu=${arch}\` in a clean checkout, then this script again.`,
  );
  process.exit(1);
}

if (!existsSync(path.join(root, 'agent', 'dist', 'main.js'))) {
  console.error('make-release: agent/dist is not built. Run `npm run build`, then this script again.');
  process.exit(1);
}
// After the check: it reads ELF files with the built agent's reader.
const { JETPACK4_GLIBC, glibcNeeds } = await import('./release-glibc.mjs');

const stage = mkdtempSync(path.join(os.tmpdir(), 'jetson-agent-release-'));
const top = path.join(stage, name);
try {
  mkdirSync(top);
  for (const p of ['package.json', 'README.md', 'bin', 'agent/dist', 'systemd', 'provisioning', 'docs']) {
    if (existsSync(path.join(root, p))) cpSync(path.join(root, p), path.join(top, p), { recursive: true });
  }
  rmSync(path.join(top, 'agent/dist'), { recursive: true, force: true });
  cpSync(path.join(root, 'agent/dist'), path.join(top, 'agent/dist'), {
    recursive: true,
    filter: (src) => !src.endsWith('.map'),
  });
  const nm = path.join(root, 'node_modules');
  for (const dir of prodDirs) {
    const rel = path.relative(nm, dir);
    if (rel.startsWith('..')) continue;
    // Nested node_modules of a package are listed separately by npm ls.
    cpSync(dir, path.join(top, 'node_modules', rel), {
      recursive: true,
      dereference: true,
      filter: (src) => !path.relative(dir, src).split(path.sep).includes('node_modules'),
    });
  }
  // onnxruntime-node carries every platform's binaries; keep linux/<arch> only.
  const ortBin = path.join(top, 'node_modules', 'onnxruntime-node', 'bin');
  if (existsSync(ortBin)) {
    for (const napi of readdirSync(ortBin)) {
      for (const platform of readdirSync(path.join(ortBin, napi))) {
        for (const a of readdirSync(path.join(ortBin, napi, platform))) {
          if (platform !== 'linux' || a !== arch) rmSync(path.join(ortBin, napi, platform, a), { recursive: true, force: true });
        }
      }
    }
  }
  // Other platforms' sharp packages never belong on a board.
  const img = path.join(top, 'node_modules', '@img');
  if (existsSync(img)) {
    for (const d of readdirSync(img)) if (/linux|darwin|win32|wasm/.test(d) && !d.endsWith(`linux-${arch}`)) rmSync(path.join(img, d), { recursive: true, force: true });
  }
  // Bun for other platforms (npm ci --cpu=... keeps only one, a host install may differ).
  const oven = path.join(top, 'node_modules', '@oven');
  if (existsSync(oven)) {
    for (const d of readdirSync(oven)) if (d !== bunPackage.slice('@oven/'.length)) rmSync(path.join(oven, d), { recursive: true, force: true });
  }
  // JetPack 4 boards have glibc 2.27: an arm64 release whose native files need more would fail
  // to load there (docs/provisioning.md "glibc audit"); x64 releases go to no JetPack.
  if (arch === 'arm64') {
    const { problems } = glibcNeeds(top);
    if (problems.length > 0) {
      console.error(
        `make-release: refusing ${name}: its native files would not load on JetPack 4 (glibc ${JETPACK4_GLIBC}):\n  ${problems.join('\n  ')}\n` +
          'Pin an older version of the package that carries them (docs/provisioning.md "glibc audit"), then run this script again.',
      );
      rmSync(stage, { recursive: true, force: true }); // process.exit skips the finally below
      process.exit(1);
    }
  }
  mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, `${name}.tar.gz`);
  // Root-owned entries and a fixed mtime: the same tree gives the same archive members.
  run('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', stage, '-czf', out, name]);
  console.log(out);
} finally {
  rmSync(stage, { recursive: true, force: true });
}

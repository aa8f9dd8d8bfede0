import path from 'node:path';
import { UsageError } from '../../core/errors.js';
import { addPackage, listPackages, removePackage } from '../../models/store.js';
import type { CommandSpec } from '../types.js';
import { optInt, optString } from './opts.js';

export const modelsAddCommand: CommandSpec = {
  path: ['models', 'add'],
  summary: 'Take a model package (tar/tar.gz) into the store: verify, unpack safely, validate model.json.',
  description:
    'Checks --size and --sha256 when given, refuses unsafe members (absolute paths, "..", links out of the package, duplicates, oversize), validates model.json and every file it names, and stores the package under <state>/packages/<sha256>/. Nothing is stored when any check fails.',
  positionals: [{ name: 'PKG', required: true, description: 'Package file built by `jetson-fleet package create`.' }],
  options: {
    sha256: { type: 'string', arg: 'HEX', description: 'Expected sha256 of the package file.' },
    size: { type: 'string', arg: 'BYTES', description: 'Expected size of the package file.' },
  },
  examples: ['jetson-agent models add yolov3-kitti-1.0.0.tar.gz --sha256 3f1c…'],
  async run(ctx) {
    const env = await ctx.agent();
    const sha = optString(ctx, 'sha256');
    if (sha !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha)) throw new UsageError(`--sha256 "${sha}" is not 64 hex digits.`);
    const size = optInt(ctx, 'size');
    const file = path.resolve(ctx.positionals[0] ?? '');
    const { pkg, added } = await addPackage({
      stateDir: env.stateDir,
      file,
      maxBytes: env.config.models.maxPackageBytes,
      now: () => new Date(),
      ...(sha ? { expectedSha256: sha } : {}),
      ...(size !== undefined ? { expectedSize: size } : {}),
    });
    ctx.out.result({ added, ...pkg });
    ctx.out.print(`${added ? 'added' : 'already stored'}: ${pkg.name}@${pkg.version} sha256 ${pkg.sha256}`);
  },
};

export const modelsListCommand: CommandSpec = {
  path: ['models', 'list'],
  summary: 'List the stored model packages.',
  async run(ctx) {
    const env = await ctx.agent();
    const all = await listPackages(env.stateDir);
    ctx.out.result({ packages: all });
    if (all.length === 0) {
      ctx.out.print('no model packages stored');
      return;
    }
    const rows = all.map((p) => [`${p.name}@${p.version}`, p.network, p.format, p.sha256.slice(0, 12), String(p.sizeBytes), p.addedAt]);
    const head = ['NAME@VERSION', 'NETWORK', 'FORMAT', 'SHA256', 'BYTES', 'ADDED'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
    ctx.out.print([line(head), ...rows.map(line)].join('\n'));
  },
};

export const modelsRemoveCommand: CommandSpec = {
  path: ['models', 'remove'],
  summary: 'Remove a stored model package (NAME@VERSION or sha256).',
  positionals: [{ name: 'NAME@VERSION', required: true, description: 'Package to remove.' }],
  async run(ctx) {
    const env = await ctx.agent();
    const pkg = await removePackage(env.stateDir, ctx.positionals[0] ?? '');
    ctx.out.result({ removed: pkg });
    ctx.out.print(`removed: ${pkg.name}@${pkg.version} (${pkg.sha256})`);
  },
};

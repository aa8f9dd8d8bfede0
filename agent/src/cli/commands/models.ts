import path from 'node:path';
import { UsageError } from '../../core/errors.js';
import { addPackage, findPackage, listPackages } from '../../models/store.js';
import { detectBoard } from '../../board/detect.js';
import { afterRestart, cacheEntries, describeStart, inUseError, modelUsage, refText, removeWithCaches, usageReasons, type Removal } from '../../compose/model-usage.js';
import type { CommandSpec, CommandContext } from '../types.js';
import { table } from '../style.js';
import { optInt, optString } from './opts.js';
import { daemonStatus } from './daemon-client.js';
import { removePath } from '../../platform/fs.js';

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

async function usageOf(ctx: CommandContext) {
  const env = await ctx.agent();
  const daemon = await daemonStatus(env, ctx.signal);
  return { env, daemon, usage: await modelUsage(env, daemon) };
}

export const modelsListCommand: CommandSpec = {
  path: ['models', 'list'],
  summary: 'List the stored model packages; mark the one serving (and the one a restart would start).',
  description:
    'SERVING comes from the running daemon (GET /v1/models on inference.host:port); without a daemon, the model a start would activate (the recorded serving model, else inference.model) is marked "starts".',
  async run(ctx) {
    const { env, daemon, usage } = await usageOf(ctx);
    const all = await listPackages(env.stateDir);
    const next = afterRestart(usage, all, []);
    const state = (p: { name: string; version: string }): string[] => {
      const out: string[] = [];
      if (daemon?.active?.name === p.name && daemon.active.version === p.version) out.push('serving');
      if (daemon?.previous?.name === p.name && daemon.previous.version === p.version) out.push('previous');
      if (next?.name === p.name && next.version === p.version && !out.includes('serving')) out.push('starts');
      return out;
    };
    ctx.out.result({
      daemon: daemon ? { active: daemon.active, previous: daemon.previous } : null,
      afterRestart: next,
      packages: all.map((p) => ({ ...p, state: state(p) })),
    });
    const c = ctx.out.color;
    if (all.length === 0) {
      ctx.out.print('no model packages stored');
    } else {
      const rows = all.map((p) => {
        const s = state(p);
        const mark = s.includes('serving') ? c.green('* serving') : s.length ? c.dim(s.join(',')) : '';
        return [mark, `${p.name}@${p.version}`, p.network, p.format, p.sha256.slice(0, 12), String(p.sizeBytes), p.addedAt];
      });
      ctx.out.print(table(['STATE', 'NAME@VERSION', 'NETWORK', 'FORMAT', 'SHA256', 'BYTES', 'ADDED'], rows, c));
    }
    if (daemon?.active && !all.some((p) => p.name === daemon.active?.name && p.version === daemon.active.version)) ctx.out.print(c.dim(`serving: ${refText(daemon.active)} (not a stored package)`));
    if (!daemon) ctx.out.print(c.dim(`no daemon answered on ${env.config.inference.host}:${env.config.inference.port}; a start would serve ${describeStart(next)}`));
  },
};

/** " and 1 TensorRT engine", " and 2 ONNX Runtime models", or "". */
function cachesText(caches: Removal['caches']): string {
  const n = (kind: 'engine' | 'onnxruntime'): number => caches.filter((c) => c.kind === kind).length;
  const parts = [n('engine') ? `${n('engine')} TensorRT engine${n('engine') > 1 ? 's' : ''}` : '', n('onnxruntime') ? `${n('onnxruntime')} ONNX Runtime model${n('onnxruntime') > 1 ? 's' : ''}` : ''].filter(Boolean);
  return parts.length ? ` and its cached ${parts.join(' and ')}` : '';
}

function printRemoval(ctx: CommandContext, r: Removal): void {
  ctx.out.print(`removed: ${refText(r.pkg)} (${r.pkg.sha256.slice(0, 12)})${cachesText(r.caches)}, ${mib(r.bytes)} freed`);
}
const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;

export const modelsRemoveCommand: CommandSpec = {
  path: ['models', 'remove'],
  summary: 'Remove a stored model package (NAME@VERSION or sha256) and its cached engines.',
  description:
    'A model that is serving, is what a rollback returns to, is recorded or configured to start after a restart, or belongs to a deployment in progress is kept unless --force is given (MODEL_IN_USE says what would serve after a restart).',
  positionals: [{ name: 'NAME@VERSION', required: true, description: 'Package to remove.' }],
  options: { force: { type: 'boolean', description: 'Remove it even when it is in use (a running daemon keeps serving it from memory until it restarts).' } },
  examples: ['jetson-agent models remove yolov3-kitti@1.0.0', 'jetson-agent models remove peoplenet@2.3 --force'],
  async run(ctx) {
    const { env, usage } = await usageOf(ctx);
    const { pkg } = await findPackage(env.stateDir, ctx.positionals[0] ?? '');
    const stored = await listPackages(env.stateDir);
    const reasons = usageReasons(usage, pkg);
    const next = afterRestart(usage, stored, [pkg]);
    if (reasons.length > 0 && ctx.options.force !== true) throw inUseError(pkg, reasons, next);
    const board = await detectBoard(env.paths);
    const r = await removeWithCaches(env, pkg, await cacheEntries(env, board));
    ctx.out.result({ removed: r.pkg, caches: r.caches.map((c) => c.dir), bytes: r.bytes, wasInUse: reasons, afterRestart: next });
    printRemoval(ctx, r);
    if (reasons.length > 0) ctx.out.print(ctx.out.color.yellow(`it was ${reasons.join(', ')}; after a restart the agent will serve ${describeStart(next)}`));
  },
};

export const modelsPruneCommand: CommandSpec = {
  path: ['models', 'prune'],
  summary: 'Remove the packages nothing uses, their cached engines, and engines no package or board can use.',
  description:
    'Keeps what is serving, what a rollback returns to, what a restart would start (recorded or configured), and a deployment in progress. Also removes cached engines whose package is gone and stale engines (built for another TensorRT or CUDA arch, never loaded). --dry-run lists what would go.',
  options: { 'dry-run': { type: 'boolean', description: 'List what would be removed; remove nothing.' } },
  examples: ['jetson-agent models prune --dry-run', 'jetson-agent models prune'],
  async run(ctx) {
    const { env, usage } = await usageOf(ctx);
    const dry = ctx.options['dry-run'] === true;
    const board = await detectBoard(env.paths);
    const stored = await listPackages(env.stateDir);
    const caches = await cacheEntries(env, board);
    const unused = stored.filter((p) => usageReasons(usage, p).length === 0);
    const kept = stored.filter((p) => !unused.includes(p));
    const orphans = caches.filter((c) => c.packageSha256 === null || !stored.some((p) => p.sha256 === c.packageSha256) || (c.stale && !unused.some((p) => p.sha256 === c.packageSha256)));
    const removed: Removal[] = [];
    for (const p of unused) removed.push(dry ? { pkg: p, caches: caches.filter((c) => c.packageSha256 === p.sha256), bytes: 0 } : await removeWithCaches(env, p, caches));
    if (!dry) for (const o of orphans) await removePath(o.dir);
    const freed = removed.reduce((a, r) => a + r.bytes, 0) + orphans.reduce((a, o) => a + o.bytes, 0);
    ctx.out.result({ dryRun: dry, removed: removed.map((r) => ({ ...r.pkg, caches: r.caches.map((c) => c.dir) })), orphanCaches: orphans.map((o) => o.dir), kept: kept.map((p) => ({ name: p.name, version: p.version, why: usageReasons(usage, p) })), bytes: freed });
    const verb = dry ? 'would remove' : 'removed';
    for (const r of removed) ctx.out.print(`${verb}: ${refText(r.pkg)} (${r.pkg.sha256.slice(0, 12)})${cachesText(r.caches)}`);
    for (const o of orphans) ctx.out.print(`${verb}: ${o.kind === 'engine' ? 'engine' : 'ONNX Runtime model'} ${path.basename(o.dir)} (${o.packageSha256 && stored.some((p) => p.sha256 === o.packageSha256) ? 'stale: other TensorRT or CUDA arch' : 'its package is gone'})`);
    for (const p of kept) ctx.out.print(ctx.out.color.dim(`kept: ${refText(p)} (${usageReasons(usage, p).join(', ')})`));
    if (removed.length === 0 && orphans.length === 0) ctx.out.print('nothing to prune');
    else if (!dry) ctx.out.print(`${mib(freed)} freed`);
  },
};

import path from 'node:path';
import type { AgentEnv } from '../core/agent-env.js';
import { AgentError } from '../core/errors.js';
import type { BoardInfo } from '../core/contracts/board.js';
import type { Servable } from '../core/contracts/model.js';
import { DEMO_MODEL_NAME, DEMO_MODEL_VERSION } from '../inference/demo-model.js';
import { removePackage, type StoredPackage } from '../models/store.js';
import { listEngines } from '../convert/cache.js';
import { SERVABLE_FILE } from '../convert/run.js';
import { listDir, readJsonMaybe, removePath, treeBytes } from '../platform/fs.js';
import { readInFlight, readServing, servingFile, startCandidates, type StartCandidate } from './start-model.js';

/**
 * Which stored models are in use, and what a restart would serve (`models list`, `models
 * remove`, `models prune`): the running daemon's active and previous model when it answers,
 * the model recorded in serving.json (it serves again after a restart), `inference.model`, and a
 * deployment in flight. The start order is start-model.ts's, so "after a restart" here is what
 * the daemon would really do.
 */
export interface Ref {
  readonly name: string;
  readonly version: string;
}
export interface ModelUsage {
  /** null: no daemon answered on inference.host:port. */
  readonly daemon: { readonly active: Ref | null; readonly previous: Ref | null } | null;
  readonly candidates: readonly StartCandidate[];
  readonly inFlight: { readonly model: Ref | null; readonly previous: Ref | null } | null;
}

const same = (a: Ref | null | undefined, b: Ref): boolean => a?.name === b.name && a.version === b.version;
export const refText = (r: Ref): string => `${r.name}@${r.version}`;

export async function modelUsage(env: AgentEnv, daemon: ModelUsage['daemon']): Promise<ModelUsage> {
  const cfg = env.config.inference;
  const recorded = await readServing(servingFile(env.stateDir), env.log);
  const flight = await readInFlight(env.stateDir, env.log);
  const inFlight = flight ? { model: flight.model, previous: flight.previous } : null;
  const demo = cfg.demoModel ? { name: DEMO_MODEL_NAME, version: DEMO_MODEL_VERSION } : null;
  return { daemon, candidates: startCandidates(recorded, cfg.model, demo, inFlight), inFlight };
}

/** Why `ref` must stay (empty: unused). */
export function usageReasons(u: ModelUsage, ref: Ref): string[] {
  const out: string[] = [];
  if (same(u.daemon?.active, ref)) out.push('serving now');
  if (same(u.daemon?.previous, ref)) out.push('what a rollback returns to');
  if (same(u.inFlight?.model, ref) || same(u.inFlight?.previous, ref)) out.push('part of a deployment in progress');
  const c = u.candidates.find((x) => same(x, ref));
  if (c?.source === 'recorded') out.push('recorded as the serving model (it starts after a restart)');
  if (c?.source === 'configured') out.push('configured as inference.model');
  return out;
}

/** The model a restart would activate if `removed` were gone: the first start candidate still available. */
export function afterRestart(u: ModelUsage, stored: readonly Ref[], removed: readonly Ref[]): StartCandidate | null {
  for (const c of u.candidates) {
    if (removed.some((r) => same(c, r))) continue;
    if (c.source === 'demo' || stored.some((s) => same(s, c))) return c;
  }
  return null;
}

export function describeStart(c: StartCandidate | null): string {
  if (!c) return 'nothing (no model would be active; activate one with `jetson-agent models activate NAME@VERSION`)';
  const why = { demo: 'the generated demo model', configured: 'inference.model', recorded: 'the recorded serving model', 'before-deployment': 'the model before the deployment in progress' }[c.source];
  return `${refText(c)} (${why})`;
}

/** A cached artefact built from a package: a TensorRT engine or a prepared ONNX Runtime model. */
export interface CacheEntry {
  readonly kind: 'engine' | 'onnxruntime';
  readonly dir: string;
  readonly packageSha256: string | null;
  readonly stale: boolean;
  readonly bytes: number;
}

export async function cacheEntries(env: AgentEnv, board: Pick<BoardInfo, 'tensorrt' | 'cudaArch'>): Promise<CacheEntry[]> {
  const out: CacheEntry[] = [];
  for (const e of await listEngines(env.stateDir, board)) out.push({ kind: 'engine', dir: e.dir, packageSha256: e.packageSha256, stale: e.status !== 'ready', bytes: await treeBytes(e.dir) });
  const models = path.join(env.stateDir, 'models');
  for (const name of await listDir(models)) {
    if (name.startsWith('.')) continue;
    const dir = path.join(models, name);
    const s = await readJsonMaybe<Servable>(path.join(dir, SERVABLE_FILE)).catch(() => undefined);
    out.push({ kind: 'onnxruntime', dir, packageSha256: typeof s?.packageSha256 === 'string' ? s.packageSha256 : null, stale: false, bytes: await treeBytes(dir) });
  }
  return out;
}

export interface Removal {
  readonly pkg: StoredPackage;
  readonly caches: readonly CacheEntry[];
  readonly bytes: number;
}

/** Removes a package and every cache entry built from it (the package goes first: a crash leaves only orphans). */
export async function removeWithCaches(env: AgentEnv, pkg: StoredPackage, caches: readonly CacheEntry[]): Promise<Removal> {
  const mine = caches.filter((c) => c.packageSha256 === pkg.sha256);
  const bytes = (await treeBytes(pkg.dir)) + mine.reduce((a, c) => a + c.bytes, 0);
  await removePackage(env.stateDir, pkg.sha256);
  for (const c of mine) await removePath(c.dir);
  return { pkg, caches: mine, bytes };
}

export function inUseError(pkg: Ref, reasons: readonly string[], next: StartCandidate | null): AgentError {
  return new AgentError('MODEL_IN_USE', `${refText(pkg)} is ${reasons.join(', ')}; after a restart the agent would serve ${describeStart(next)}.`, {
    hint: 'Activate another model first (`jetson-agent models activate NAME@VERSION`), or pass --force to remove it anyway (a running daemon keeps serving it from memory until it restarts).',
  });
}


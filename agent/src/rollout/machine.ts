import type { DeploymentManifest } from '../core/contracts/manifest.js';
import {
  DEPLOYMENT_REPORT_VERSION,
  isPostActivation,
  isTerminal,
  type DeploymentError,
  type DeploymentReport,
  type DeploymentState,
  type ModelRef,
  type TerminalState,
} from '../core/contracts/deployment.js';
import type { BoardInfo } from '../core/contracts/board.js';
import { removedPlugins, removedPluginsFix } from '../core/tensorrt-plugins.js';
import { compareVersions } from '../core/versions.js';
export { compareVersions };

/**
 * Device-side deployment state machine (docs/reference/design-rules.md "Deployments over MQTT"; issue #6 §4). Pure: no I/O, time is a
 * parameter. The executor (executor.ts) persists what these functions return before it acts.
 * Lessons applied (docs/reference/fleet-rollouts.md "Lessons from other updaters" and "Recommendations applied"): every non-terminal state has a deadline; a newer
 * desired supersedes a wedged one; the same deployment id is never worked twice; a replayed
 * older manifest is rejected (sequence); compatibility is checked before download.
 */

/** What the executor persists: the report's fields (minus its version) plus what it needs to resume. */
export interface DeploymentRecord extends Omit<DeploymentReport, 'v'> {
  /** null for inbox deployments (no manifest). */
  readonly manifest: DeploymentManifest | null;
  /** Inbox: the dropped package path. */
  readonly localPackage?: string;
}

export interface RolloutMemory {
  readonly v: 1;
  /** Highest sequence of a manifest that passed admission (anti-replay); rejected manifests leave it alone. */
  readonly highestSequence: number;
  /** Deployment ids already worked (bounded, newest last). */
  readonly workedIds: readonly string[];
  readonly current: DeploymentRecord | null;
  readonly lastTerminal: DeploymentRecord | null;
}

export const EMPTY_MEMORY: RolloutMemory = { v: 1, highestSequence: 0, workedIds: [], current: null, lastTerminal: null };
export const WORKED_IDS_KEPT = 500;

/** Seconds allowed in each non-terminal state. */
export type StateDeadlines = Readonly<Record<Exclude<DeploymentState, TerminalState>, number>>;

export function deadlinesFor(defaults: StateDeadlines, manifest: DeploymentManifest | null, probationSec: number): StateDeadlines {
  const d = manifest?.policy?.deadlines;
  return {
    received: defaults.received,
    downloading: d?.downloadSec ?? defaults.downloading,
    verifying: d?.verifySec ?? defaults.verifying,
    converting: d?.convertSec ?? defaults.converting,
    warming: d?.warmSec ?? defaults.warming,
    activating: d?.activateSec ?? defaults.activating,
    // probation itself plus the time to read serving stats and roll back
    probation: probationSec + defaults.probation,
  };
}

export function probationSecFor(manifest: DeploymentManifest | null, defaultSec: number): number {
  return manifest?.policy?.probationSec ?? defaultSec;
}

const ALLOWED: Readonly<Record<DeploymentState, readonly DeploymentState[]>> = {
  received: ['downloading', 'verifying', 'rejected', 'failed', 'superseded', 'canceled'],
  downloading: ['verifying', 'failed', 'superseded', 'canceled'],
  verifying: ['converting', 'failed', 'superseded', 'canceled'],
  converting: ['warming', 'failed', 'superseded', 'canceled'],
  warming: ['activating', 'failed', 'superseded', 'canceled'],
  activating: ['probation', 'rolled_back', 'superseded', 'canceled'],
  probation: ['active', 'rolled_back', 'superseded', 'canceled'],
  // A rollback request (operator or the fleet controller rolling a wave back) undoes an active deployment.
  active: ['rolled_back'],
  rejected: [],
  failed: [],
  rolled_back: [],
  superseded: [],
  canceled: [],
};

export function canTransition(from: DeploymentState, to: DeploymentState): boolean {
  return ALLOWED[from].includes(to);
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function newRecord(args: {
  deploymentId: string;
  source: 'mqtt' | 'inbox';
  manifest: DeploymentManifest | null;
  localPackage?: string;
  model: ModelRef | null;
  previous: ModelRef | null;
  now: number;
  deadlines: StateDeadlines;
}): DeploymentRecord {
  return {
    deploymentId: args.deploymentId,
    source: args.source,
    manifest: args.manifest,
    ...(args.localPackage ? { localPackage: args.localPackage } : {}),
    state: 'received',
    stage: 'accepted',
    progress: null,
    model: args.model,
    previous: args.previous,
    startedAt: iso(args.now),
    updatedAt: iso(args.now),
    deadlineAt: iso(args.now + args.deadlines.received * 1000),
    seq: 1,
  };
}

/** Enter a new state (deadline restarts) or a terminal one (no deadline). Throws on an illegal move: a bug. */
export function transition(
  rec: DeploymentRecord,
  to: DeploymentState,
  now: number,
  deadlines: StateDeadlines,
  extra: { stage?: string; error?: DeploymentError; previous?: ModelRef | null } = {},
): DeploymentRecord {
  if (!canTransition(rec.state, to)) throw new Error(`illegal deployment transition ${rec.state} → ${to} (${rec.deploymentId})`);
  const { deadlineAt: _drop, error: _e, ...rest } = rec;
  return {
    ...rest,
    state: to,
    stage: extra.stage ?? to,
    progress: isTerminal(to) ? null : 0,
    ...(extra.previous !== undefined ? { previous: extra.previous } : {}),
    ...(extra.error ? { error: extra.error } : {}),
    updatedAt: iso(now),
    ...(isTerminal(to) ? {} : { deadlineAt: iso(now + deadlines[to] * 1000) }),
    seq: rec.seq + 1,
  };
}

export function withProgress(rec: DeploymentRecord, progress: number | null, stage: string, now: number): DeploymentRecord {
  return { ...rec, progress, stage, updatedAt: iso(now), seq: rec.seq + 1 };
}

/** Where a failure in `state` ends: before activation the old model still serves → failed; after → rolled_back. */
export function failureOutcome(state: DeploymentState): 'failed' | 'rolled_back' {
  return isPostActivation(state) ? 'rolled_back' : 'failed';
}

export function toReport(rec: DeploymentRecord): DeploymentReport {
  return {
    v: DEPLOYMENT_REPORT_VERSION,
    deploymentId: rec.deploymentId,
    source: rec.source,
    state: rec.state,
    stage: rec.stage,
    progress: rec.progress,
    model: rec.model,
    previous: rec.previous,
    ...(rec.error ? { error: rec.error } : {}),
    startedAt: rec.startedAt,
    updatedAt: rec.updatedAt,
    ...(rec.deadlineAt ? { deadlineAt: rec.deadlineAt } : {}),
    seq: rec.seq,
  };
}

export function remember(mem: RolloutMemory, rec: DeploymentRecord): RolloutMemory {
  const workedIds = mem.workedIds.includes(rec.deploymentId) ? mem.workedIds : [...mem.workedIds, rec.deploymentId].slice(-WORKED_IDS_KEPT);
  // Only an accepted manifest moves the anti-replay counter (docs/mqtt.md "desired"): a rejected
  // one (incompatible, expired, invalid) must not make a valid earlier-sequence manifest look
  // like a replay. `rejected` is the one state a manifest that failed admission ends in.
  const accepted = rec.state !== 'rejected';
  const highestSequence = accepted ? Math.max(mem.highestSequence, rec.manifest?.sequence ?? 0) : mem.highestSequence;
  if (isTerminal(rec.state)) return { ...mem, workedIds, highestSequence, current: null, lastTerminal: rec };
  return { ...mem, workedIds, highestSequence, current: rec };
}

export interface DeviceFacts {
  readonly board: Pick<BoardInfo, 'soc' | 'cudaArch' | 'tensorrt' | 'jetpack'>;
  readonly freeDiskBytes: number;
}

export type Admission =
  | { readonly verdict: 'accept' }
  | { readonly verdict: 'ignore'; readonly reason: string }
  | { readonly verdict: 'reject'; readonly code: 'MANIFEST_EXPIRED' | 'MANIFEST_REPLAYED' | 'MANIFEST_INCOMPATIBLE' | 'MANIFEST_INVALID' | 'TENSORRT_PLUGIN_REMOVED'; readonly message: string };

/**
 * Decide on a verified, schema-valid manifest. Duplicate ids (a retained desired delivered
 * again after reconnect) are ignored silently; everything else is accepted or rejected with a
 * reason code. Order: duplicate → time sanity → expiry → replay → compatibility.
 */
export function admit(mem: RolloutMemory, m: DeploymentManifest, now: number, facts: DeviceFacts): Admission {
  if (mem.current?.deploymentId === m.deploymentId || mem.workedIds.includes(m.deploymentId)) {
    return { verdict: 'ignore', reason: `deployment ${m.deploymentId} was already worked (never twice)` };
  }
  const expires = Date.parse(m.expiresAt);
  const issued = Date.parse(m.issuedAt);
  if (Number.isNaN(expires) || Number.isNaN(issued)) return { verdict: 'reject', code: 'MANIFEST_INVALID', message: 'issuedAt/expiresAt are not ISO-8601 times.' };
  if (expires <= now) return { verdict: 'reject', code: 'MANIFEST_EXPIRED', message: `The manifest expired at ${m.expiresAt}.` };
  if (m.sequence <= mem.highestSequence) {
    return {
      verdict: 'reject',
      code: 'MANIFEST_REPLAYED',
      message: `Manifest sequence ${m.sequence} is not newer than the last accepted ${mem.highestSequence}.`,
    };
  }
  const why = incompatibility(m, facts);
  if (why) return { verdict: 'reject', code: 'MANIFEST_INCOMPATIBLE', message: why };
  const plugins = pluginIncompatibility(m, facts);
  if (plugins) return { verdict: 'reject', code: 'TENSORRT_PLUGIN_REMOVED', message: plugins };
  return { verdict: 'accept' };
}


function inRange(v: string | null, r: { min?: string; max?: string } | undefined): boolean {
  if (!r) return true;
  if (v === null) return false;
  if (r.min !== undefined && compareVersions(v, r.min) < 0) return false;
  if (r.max !== undefined && compareVersions(v, r.max) >= 0) return false;
  return true;
}

const rangeText = (r: { min?: string; max?: string }): string => `[${r.min ?? '*'}, ${r.max ?? '*'})`;

/** null when compatible, else the first reason (docs/reference/fleet-rollouts.md "Recommendations applied" #1: check before download). */
export function incompatibility(m: DeploymentManifest, facts: DeviceFacts): string | null {
  const r = m.requires;
  const b = facts.board;
  if (r?.socs && !r.socs.includes(b.soc ?? 'none')) return `SoC ${b.soc ?? 'none'} is not one of ${r.socs.join(', ')}.`;
  if (r?.cudaArchs && (b.cudaArch === null || !r.cudaArchs.includes(b.cudaArch))) return `CUDA arch ${b.cudaArch ?? 'none'} is not one of ${r.cudaArchs.join(', ')}.`;
  if (r?.tensorrt && !inRange(b.tensorrt, r.tensorrt)) return `TensorRT ${b.tensorrt ?? 'none'} is outside ${rangeText(r.tensorrt)}.`;
  if (r?.jetpack && !inRange(b.jetpack, r.jetpack)) return `JetPack ${b.jetpack ?? 'none'} is outside ${rangeText(r.jetpack)}.`;
  const need = m.package.size + (r?.minFreeDiskBytes ?? 0);
  if (facts.freeDiskBytes < need) return `Only ${facts.freeDiskBytes} bytes free in the state dir; ${need} needed (package + requires.minFreeDiskBytes).`;
  return null;
}

/**
 * null when this board's TensorRT has every plugin the manifest's `requires.plugins` names
 * (the controller fills it from the package's model.json), else the reason and the fix:
 * TensorRT 11 removed BatchedNMS/BatchTile and others (core/tensorrt-plugins.ts). Checked
 * before the download, like the rest of `requires`.
 */
export function pluginIncompatibility(m: DeploymentManifest, facts: DeviceFacts): string | null {
  const removed = removedPlugins(facts.board.tensorrt, m.requires?.plugins ?? []);
  if (removed.length === 0) return null;
  return (
    `The model needs ${removed.join(', ')}, which TensorRT ${facts.board.tensorrt ?? ''} on this board does not have (removed in TensorRT 11). ` +
    removedPluginsFix(removed)
  );
}

/**
 * After an agent restart with a persisted non-terminal record: past its deadline → end it
 * (failed before activation, rolled_back after); otherwise resume at the state's start.
 */
export function resumePlan(rec: DeploymentRecord, now: number): { action: 'resume'; from: DeploymentState } | { action: 'expire'; outcome: 'failed' | 'rolled_back' } {
  if (rec.deadlineAt && Date.parse(rec.deadlineAt) <= now) return { action: 'expire', outcome: failureOutcome(rec.state) };
  return { action: 'resume', from: rec.state };
}

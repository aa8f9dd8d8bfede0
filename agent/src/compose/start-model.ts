import path from 'node:path';
import type { Logger } from '../core/log.js';
import { isTerminal } from '../core/contracts/deployment.js';
import type { DeploymentRecord, RolloutMemory } from '../rollout/machine.js';
import { mkdirp, readJsonMaybe, writeJsonAtomic } from '../platform/fs.js';

/**
 * Which model the agent activates at start. A restart must not undo a deployment: the fleet's
 * retained report says the deployed model is active, so that model must serve again after a
 * reboot or crash (issue #6). Every switch of the serving model — deployment, automatic or
 * requested rollback, `models activate` — is recorded in `{stateDir}/serving.json`
 * together with the `inference.model` configured at that moment. At start the recorded model
 * comes first, unless `inference.model` was changed since (editing the config is the newer
 * decision); then the configured model, else the demo model. A deployment still in flight
 * (`deployments/state.json`) goes before all of them: the agent starts with the model that
 * served before it (its `previous`), and the resumed deployment switches to the new model
 * again, so a probation failure after the restart still has a model to roll back to. Later
 * candidates are fallbacks when an earlier one cannot be resolved or fails its warm-up.
 */
export interface ServingRecord {
  readonly v: 1;
  readonly name: string;
  readonly version: string;
  /** `inference.model` when the switch happened ('' = none). */
  readonly configured: string;
  readonly at: string;
}

export interface StartCandidate {
  readonly name: string;
  readonly version: string;
  readonly source: 'before-deployment' | 'recorded' | 'configured' | 'demo';
}

// Top level: models/ subdirectories are scanned for servable.json files.
export const servingFile = (stateDir: string): string => path.join(stateDir, 'serving.json');

/** Pure: the models to try at start, in order. */
export function startCandidates(
  rec: ServingRecord | undefined,
  configured: string,
  demo: { name: string; version: string } | null,
  inFlight: { readonly previous: { name: string; version: string } | null } | null = null,
): StartCandidate[] {
  const out: StartCandidate[] = [];
  if (inFlight?.previous) out.push({ name: inFlight.previous.name, version: inFlight.previous.version, source: 'before-deployment' });
  if (rec && rec.configured === configured) out.push({ name: rec.name, version: rec.version, source: 'recorded' });
  const [name, version] = configured.split('@');
  if (configured && name && version) out.push({ name, version, source: 'configured' });
  else if (demo) out.push({ ...demo, source: 'demo' });
  return out.filter((c, i) => out.findIndex((o) => o.name === c.name && o.version === c.version) === i);
}

/**
 * Pure: whether activating candidate `i` at start is written to serving.json. The first candidate
 * and the recorded one are (they are what should serve); a later fallback is not: it serves
 * only because an earlier one failed, maybe transiently, and the next boot should try again.
 */
export function recordsAtStart(candidates: readonly StartCandidate[], i: number): boolean {
  return i === 0 || candidates[i]?.source === 'recorded';
}

function isRecord(x: unknown): x is ServingRecord {
  const r = x as Partial<ServingRecord> | null;
  return typeof r === 'object' && r !== null && r.v === 1 && typeof r.name === 'string' && typeof r.version === 'string' && typeof r.configured === 'string';
}

/** The deployment persisted as not finished (it resumes after this start), or null. */
export async function readInFlight(stateDir: string, log: Logger): Promise<DeploymentRecord | null> {
  try {
    const mem = await readJsonMaybe<RolloutMemory>(path.join(stateDir, 'deployments', 'state.json'));
    const cur = mem?.current;
    return cur && !isTerminal(cur.state) ? cur : null;
  } catch (err) {
    log.warn({ err: String(err) }, 'the deployment state is unreadable; starting without it');
    return null;
  }
}

/** The record, or undefined when there is none or it is unreadable (logged: start falls back to the config). */
export async function readServing(file: string, log: Logger): Promise<ServingRecord | undefined> {
  try {
    const raw = await readJsonMaybe(file);
    if (raw === undefined) return undefined;
    if (isRecord(raw)) return raw;
    log.warn({ file }, 'the recorded serving model is malformed; ignoring it');
  } catch (err) {
    log.warn({ file, err: String(err) }, 'the recorded serving model is unreadable; ignoring it');
  }
  return undefined;
}

/** Records switches in call order (each write atomic); a failed write is logged, never thrown. Resolves when this one is written. */
export function servingRecorder(file: string, configured: string, log: Logger, now: () => number): (m: { name: string; version: string }) => Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  return (m) => {
    const rec: ServingRecord = { v: 1, name: m.name, version: m.version, configured, at: new Date(now()).toISOString() };
    chain = chain
      .then(async () => {
        await mkdirp(path.dirname(file), 0o750);
        await writeJsonAtomic(file, rec);
      })
      .catch((err: unknown) => log.warn({ file, err: String(err) }, 'could not record the serving model; a restart may start another one'));
    return chain;
  };
}

import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { readEvalSpec, type ClassMapping } from '../eval/eval-spec.js';
import { judgeAccuracy, regressionError, type AccuracyPolicy, type GateVerdict } from '../eval/gate.js';
import { identityMapping, loadEvalSet } from '../eval/load-set.js';
import { evaluateDataset, type EvalReport, type Progress } from '../eval/run.js';
import type { InferenceService } from '../inference/service.js';
import { parseSpec } from '../models/spec-parse.js';
import { findPackage } from '../models/store.js';
import { readTextMaybe } from '../platform/fs.js';

/**
 * The device side of an accuracy-gated rollout (docs/rollouts.md, "Accuracy gate"): evaluate
 * the model the service now serves — the engine this board just built — on the package's
 * validation set, through the low-priority lane so live requests keep their latency, and judge
 * it against the policy. A rollout step calls this after warm-up; on ACCURACY_REGRESSION it
 * rolls back. Cancellable through `signal`; refuses up front (EVAL_TOO_LONG) when the set
 * would not finish before `deadlineMs`.
 */
export interface AccuracyGateOptions {
  readonly service: InferenceService;
  readonly stateDir: string;
  readonly model: { readonly name: string; readonly version: string };
  readonly policy: AccuracyPolicy;
  readonly signal: AbortSignal;
  /** Time left in the rollout stage; the evaluation must finish within it. */
  readonly deadlineMs?: number;
  readonly onProgress?: (p: Progress) => void;
}

export interface AccuracyGateResult extends GateVerdict {
  readonly report: EvalReport;
}

export async function runAccuracyGate(o: AccuracyGateOptions): Promise<AccuracyGateResult> {
  const ref = `${o.model.name}@${o.model.version}`;
  const { pkg, manifest } = await findPackage(o.stateDir, ref);
  const v = manifest.validation;
  if (!v || (v.dir === undefined && v.path === undefined)) {
    throw new AgentError('MODEL_MANIFEST_INVALID', `The rollout requires an accuracy gate but ${ref} has no validation set (model.json validation.dir or validation.path).`, {
      hint: 'Package a KITTI validation set with the model (validation.dir) or name one on the board (validation.path).',
    });
  }
  const dir = v.dir !== undefined ? path.join(pkg.dir, v.dir) : v.path!;
  const specText = manifest.spec ? await readTextMaybe(path.join(pkg.dir, manifest.spec)) : undefined;
  const spec = specText !== undefined ? readEvalSpec(parseSpec(specText, `${ref}:${manifest.spec}`), `${ref}:${manifest.spec}`) : null;
  const mapping: ClassMapping = spec?.mapping ?? identityMapping(manifest.classes);
  const set = await loadEvalSet(dir, { mapping, modelClasses: manifest.classes, signal: o.signal });
  const active = o.service.status().active;
  if (!active || active.name !== o.model.name || active.version !== o.model.version) {
    throw new AgentError('MODEL_NOT_FOUND', `The accuracy gate evaluates ${ref}, but the service serves ${active ? `${active.name}@${active.version}` : 'nothing'}.`, {
      hint: 'The gate runs right after the switch to the new model; retry the deployment.',
    });
  }
  // Up-front estimate: the recent live latency of this model, when it has served any.
  const p50 = o.service.stats(60_000).latencyMs?.p50;
  const threshold = spec?.confidenceThreshold ?? manifest.nms.confidenceThreshold;
  const report = await evaluateDataset({
    root: set.layout.root,
    entries: set.entries,
    mapping: set.mapping,
    mode: v.mode ?? spec?.mode ?? 'sample',
    iouThreshold: v.iouThreshold ?? spec?.iouThreshold ?? 0.5,
    confidenceThreshold: threshold,
    network: { width: manifest.input.width, height: manifest.input.height, resize: manifest.input.resize },
    detect: async (_e, read) => o.service.detect(await read(), o.model.name, { threshold, maxDetections: 4096, priority: 'low' }),
    signal: o.signal,
    ...(o.deadlineMs !== undefined ? { deadlineMs: o.deadlineMs } : {}),
    ...(p50 !== undefined && o.deadlineMs !== undefined ? { msPerImage: p50 } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  const verdict = judgeAccuracy(report, o.policy, v.referenceMap);
  if (!verdict.passed) throw regressionError(verdict, ref);
  return { ...verdict, report };
}

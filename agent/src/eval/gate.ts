import { AgentError } from '../core/errors.js';
import type { ClassAp } from './ap.js';
import type { EvalReport } from './run.js';

/**
 * The accuracy gate's decision (docs/rollouts.md, "Accuracy gate"): the mAP the device measured
 * on the engine it built against the policy — `minMap`, or `maxDrop` below the package's
 * reference mAP. Pure.
 */
export type AccuracyPolicy = { readonly minMap: number } | { readonly maxDrop: number };

export interface GateVerdict {
  readonly passed: boolean;
  readonly measuredMap: number;
  readonly referenceMap: number | null;
  /** The mAP the model had to reach. */
  readonly requiredMap: number;
  /** The classes that lost most (against nothing but their own AP without a per-class reference): lowest AP first. */
  readonly worstClasses: readonly Pick<ClassAp, 'name' | 'ap' | 'precision' | 'recall'>[];
  readonly images: number;
}

export function requiredMap(policy: AccuracyPolicy, referenceMap: number | undefined): number {
  if ('minMap' in policy) return policy.minMap;
  if (referenceMap === undefined) {
    throw new AgentError('MODEL_MANIFEST_INVALID', 'The policy sets accuracy.maxDrop but the package has no validation.referenceMap to drop from.', {
      hint: 'Add validation.referenceMap (the mAP TAO measured at training) to model.json, or use accuracy.minMap.',
    });
  }
  return Math.max(0, referenceMap - policy.maxDrop);
}

export function judgeAccuracy(report: EvalReport, policy: AccuracyPolicy, referenceMap?: number): GateVerdict {
  if (!report.complete || report.map === null) {
    throw new AgentError('EVAL_INCOMPLETE', `The accuracy evaluation skipped ${report.skipped.length} of ${report.images} images (${report.skipped[0]?.file ?? '?'}: ${report.skipped[0]?.message ?? '?'}); a partial mAP does not pass a gate.`, {
      hint: 'Fix the validation set in the package.',
    });
  }
  const need = requiredMap(policy, referenceMap);
  const worstClasses = [...report.classes]
    .filter((c) => c.groundTruth > 0)
    .sort((a, b) => a.ap - b.ap)
    .slice(0, 3)
    .map((c) => ({ name: c.name, ap: c.ap, precision: c.precision, recall: c.recall }));
  // Compared at TAO's printed precision (5 digits): a reference copied from TAO's output must pass itself.
  const round = (v: number): number => Math.round(v * 1e5) / 1e5;
  return { passed: round(report.map) >= round(need), measuredMap: report.map, referenceMap: referenceMap ?? null, requiredMap: need, worstClasses, images: report.evaluated };
}

export function regressionError(v: GateVerdict, model: string): AgentError {
  const f = (x: number): string => x.toFixed(4);
  const worst = v.worstClasses.map((c) => `${c.name} ${f(c.ap)}`).join(', ');
  return new AgentError(
    'ACCURACY_REGRESSION',
    `${model} measured mAP ${f(v.measuredMap)} on ${v.images} validation images, below the gate ${f(v.requiredMap)}${v.referenceMap !== null ? ` (reference ${f(v.referenceMap)})` : ''}; worst classes: ${worst || 'none'}.`,
    {
      hint: 'Check the conversion precision (INT8/FP16) and its calibration cache; the previous model keeps serving.',
      details: { measuredMap: v.measuredMap, referenceMap: v.referenceMap, requiredMap: v.requiredMap, worstClasses: v.worstClasses, images: v.images },
    },
  );
}

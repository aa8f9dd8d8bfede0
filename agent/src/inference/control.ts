import type { Servable } from '../core/contracts/model.js';
import type { GoldenSet } from './golden.js';
import type { SwapStatus } from './swap-hold.js';
import type { WindowStats } from './window.js';

/** What the rollout flow (MQTT) and the CLI/admin route use. */
export interface ActivateOptions {
  /** Inference runs on a zero tensor before the switch (default: inference.warmupRuns). */
  readonly warmupRuns?: number;
  /** Golden images with expected detections; a mismatch keeps the old model (issue #5 §5). */
  readonly golden?: GoldenSet;
}

/** One start-model candidate, resolved (InferenceService.activateFirst). */
export interface StartChoice {
  readonly servable: Servable;
  readonly options?: ActivateOptions;
  /**
   * false: do not report this switch to onSwitch (default true). A fallback started because the
   * recorded model failed transiently must not replace the record, or the deployed model never
   * comes back on later boots.
   */
  readonly record?: boolean;
}

export interface ModelRef {
  readonly name: string;
  readonly version: string;
  readonly backend: 'onnxruntime' | 'tensorrt';
}

export interface ActivationResult {
  readonly active: ModelRef;
  readonly previous: ModelRef | null;
  readonly warmupRuns: number;
  readonly goldenCases: number;
  readonly loadMs: number;
}

export interface InferenceStatus {
  readonly ready: boolean;
  readonly state: 'empty' | 'activating' | 'serving';
  readonly active: ModelRef | null;
  /** The model a rollback returns to. */
  readonly previous: ModelRef | null;
  /** Everything holding an engine now: the active model plus any still draining. */
  readonly loaded: readonly (ModelRef & { readonly role: 'active' | 'draining'; readonly inflight: number })[];
  readonly queueDepth: number;
  /** swapMode replace while no model is loaded: who leaves, who comes, the phase and the requests held; else null. */
  readonly swap: SwapStatus | null;
}

/**
 * The typed surface for the rollout engineer (MQTT deployments) and the CLI:
 * activate (load beside → warm-up → golden → atomic switch → drain → unload), rollback to the
 * previous model, status and interval statistics.
 */
export interface InferenceControl {
  activate(servable: Servable, options?: ActivateOptions): Promise<ActivationResult>;
  rollback(): Promise<ActivationResult>;
  status(): InferenceStatus;
  /** Requests, errors by code and latency percentiles over the last `windowMs`. */
  stats(windowMs: number): WindowStats;
}

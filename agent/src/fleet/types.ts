import { ACTIVE_PATH, TERMINAL_STATES, type DeploymentState } from '../core/contracts/deployment.js';
/**
 * Plain-data inputs and outputs of the controller's pure logic (wave planner, target
 * resolution, thresholds, rollout reducer). The MQTT wiring adapts retained status, health
 * and deployment reports to these shapes; nothing here knows about topics or envelopes.
 */

/** What the controller knows about one device (from its retained status and health). */
export interface DeviceRecord {
  readonly id: string;
  readonly online: boolean;
  /** Controller clock (ms) of the last status/health seen; null when never seen. */
  readonly lastSeen: number | null;
  readonly groups: readonly string[];
  readonly board: DeviceBoard;
  /** Free bytes in the agent's state dir; null when unknown. */
  readonly freeDiskBytes: number | null;
}

export interface DeviceBoard {
  /** `tegra194`; null on non-Jetson hosts or when unknown. */
  readonly soc: string | null;
  /** GPU_ARCHS number, e.g. 72. */
  readonly cudaArch: number | null;
  /** `8.5.2` */
  readonly tensorrt: string | null;
  /** `5.1` */
  readonly jetpack: string | null;
}

/** What a deployment needs from a board (a manifest's `requires`). Absent = no constraint. */
export interface Requirements {
  readonly soc?: readonly string[];
  readonly cudaArch?: readonly number[];
  /** Version range, e.g. `>=8.5 <9` (see versions.ts). */
  readonly tensorrt?: string;
  readonly jetpack?: string;
  readonly minFreeDiskBytes?: number;
  /** TensorRT plugin creators the model needs (`BatchedNMS_TRT`); boards whose TensorRT dropped one are skipped. */
  readonly plugins?: readonly string[];
}

/** `--target`: `all`, `group:NAME` or `devices:a,b,…`. */
export type TargetSelector =
  | { readonly kind: 'all' }
  | { readonly kind: 'group'; readonly group: string }
  | { readonly kind: 'devices'; readonly ids: readonly string[] };

export type SkipReason = 'incompatible' | 'unknown-device';

export interface SkippedDevice {
  readonly id: string;
  readonly reason: SkipReason;
  /** Human reasons, one per unmet requirement. */
  readonly details: readonly string[];
}

export interface ResolvedTargets {
  /** Compatible and online, in wave order. */
  readonly online: readonly string[];
  /** Compatible but offline: they get the retained desired and catch up later (pending, not failed). */
  readonly offline: readonly string[];
  readonly skipped: readonly SkippedDevice[];
}

/** `--waves` items: cumulative device count or cumulative percentage (hundredths of a percent). */
export type WaveStep = { readonly kind: 'count'; readonly count: number } | { readonly kind: 'percent'; readonly hundredths: number };

/** `--max-failures`: more than `count` failed devices, or more than a percentage of devices with an outcome. */
export type FailureThreshold =
  | { readonly kind: 'count'; readonly count: number }
  | { readonly kind: 'percent'; readonly hundredths: number; readonly minSample: number };

/** `--rate N/min`: how many devices get their desired state per `perMs`. */
export interface Rate {
  readonly count: number;
  readonly perMs: number;
}

/** Device deployment states (docs/reference/design-rules.md "Deployments over MQTT"): the device side's own list, not a copy of it. */
export const DEVICE_DEPLOYMENT_STATES: readonly DeploymentState[] = [...new Set<DeploymentState>([...ACTIVE_PATH, ...TERMINAL_STATES])];
export type DeviceDeploymentState = DeploymentState;

/** The last deployment report the controller holds for a device (any deployment id). */
export interface DeploymentReport {
  readonly deploymentId: string;
  readonly state: DeviceDeploymentState;
  /**
   * Controller clock (ms) when the controller first saw the device in `state`. Not the
   * device's own timestamp: gate times must not depend on board clock skew.
   */
  readonly since: number;
  readonly error?: { readonly code: string; readonly message: string };
}

/** Device health as the gate needs it. */
export interface HealthObservation {
  readonly healthy: boolean;
  /** Controller clock (ms) since when `healthy` has had this value. */
  readonly since: number;
  readonly reasons?: readonly string[];
}

export interface DeviceObservation {
  readonly online: boolean;
  readonly report?: DeploymentReport;
  readonly health?: HealthObservation;
}

export interface RolloutPolicy {
  readonly maxFailures: FailureThreshold;
  /** Active and healthy this long before a device counts as a success. 0 = active is enough. */
  readonly healthGateMs: number;
  /** Per wave, counted from the last device's notification (rate pacing adds to it). */
  readonly waveTimeoutMs: number;
  /** Undefined = notify a whole wave at once. */
  readonly rate?: Rate;
}

export interface RolloutPlan {
  readonly deploymentId: string;
  /** Device ids per wave; every wave non-empty. */
  readonly waves: readonly (readonly string[])[];
  readonly policy: RolloutPolicy;
}

export type RolloutPhase = 'running' | 'aborted' | 'done';

/** The rollout's own persisted state (retained by the runner so a restarted controller resumes). */
export interface RolloutProgress {
  readonly phase: RolloutPhase;
  /** Index of the current (latest started) wave. */
  readonly wave: number;
  /** Controller clock when the current wave started. */
  readonly waveStartedAt: number;
  /** How many devices of the current wave (in wave order) have been sent their desired state. */
  readonly notifiedInWave: number;
  /** Devices the controller declared timed_out (sticky): id → when, and the state they were stuck in. */
  readonly timedOut: Readonly<Record<string, { readonly at: number; readonly state: string }>>;
  readonly abort?: AbortReason;
}

/** `wave` here is 1-based, as operators read it; indexes elsewhere (DeviceView.wave, promote) are 0-based. */
export type AbortReason =
  | { readonly kind: 'threshold'; readonly wave: number; readonly failed: number; readonly executed: number; readonly message: string }
  | { readonly kind: 'no-success'; readonly wave: number; readonly failed: number; readonly message: string }
  | { readonly kind: 'operator'; readonly wave: number; readonly message: string };

/** Controller view of one device. */
export type DeviceStatus =
  | 'queued' // in a wave not started yet, or not yet notified (rate pacing)
  | 'waiting' // notified, online, no report for this deployment yet
  | 'pending' // offline without an outcome: a straggler, not a failure
  | 'in_progress' // a non-terminal device state (see `state`)
  | 'gating' // active, health gate running
  | 'succeeded' // active and healthy for the gate time
  | 'failed' // failed, rolled_back or rejected for a reason other than incompatibility
  | 'timed_out' // stuck past the wave deadline while online
  | 'incompatible' // rejected as incompatible: excluded from ratios
  | 'excluded'; // superseded or canceled: neither success nor failure

export type DeviceOutcome = 'success' | 'failure' | 'excluded' | 'none';

export interface DeviceView {
  readonly id: string;
  /** 0-based wave index. */
  readonly wave: number;
  readonly status: DeviceStatus;
  readonly outcome: DeviceOutcome;
  /** Last device state for this deployment, when any. */
  readonly state?: DeviceDeploymentState;
  readonly reason?: string;
  /**
   * The stable error code behind a failure or an exclusion: the device's report code, or
   * FLEET_DEVICE_TIMED_OUT for a device the controller declared timed out.
   */
  readonly code?: string;
}

/** Failures of a rollout grouped by code, most devices first (`rollout status`, the abort summary). */
export interface ErrorGroup {
  readonly code: string;
  readonly devices: number;
  /** One device with this code and what it said, as an example. */
  readonly example: { readonly id: string; readonly message: string };
}

export interface RolloutCounts {
  readonly total: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly incompatible: number;
  readonly excluded: number;
  readonly pending: number;
  readonly inProgress: number;
  readonly queued: number;
}

export type RolloutDecision =
  | { readonly kind: 'wait'; readonly reason: string; readonly stalled: boolean }
  | { readonly kind: 'promote'; readonly fromWave: number; readonly toWave: number } // 0-based
  | { readonly kind: 'abort'; readonly reason: AbortReason }
  | { readonly kind: 'aborted'; readonly reason: AbortReason }
  | { readonly kind: 'done' };

/** What one reducer step asks the runner to do, and the state to persist after doing it. */
export interface RolloutStep {
  readonly decision: RolloutDecision;
  readonly next: RolloutProgress;
  /** Publish the new desired state to these devices (rate-paced, in order). */
  readonly notify: readonly string[];
  /** Re-publish the previous desired state to these devices (abort of the current wave). */
  readonly rollback: readonly string[];
  /** Call the reducer again no later than this (controller clock), even without new reports. */
  readonly wakeAt: number | undefined;
  readonly devices: readonly DeviceView[];
  readonly counts: RolloutCounts;
}

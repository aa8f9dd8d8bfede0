/**
 * Device deployment states and the report a device publishes on `{p}/devices/{id}/deployment`
 * (docs/reference/design-rules.md "Deployments over MQTT", issue #6 §4). Shared by the device (rollout/) and the fleet controller.
 * Payloads are versioned (`v`) and never changed in place (docs/reference/fleet-rollouts.md "Lessons from other updaters",
 * availability and payload formats: a payload format change broke consumers).
 */
export const DEPLOYMENT_REPORT_VERSION = 1;

/** In order of a successful run (docs/reference/design-rules.md "Deployments over MQTT"). */
export const ACTIVE_PATH = [
  'received',
  'downloading',
  'verifying',
  'converting',
  'warming',
  'activating',
  'probation',
  'active',
] as const;

export const TERMINAL_STATES = ['active', 'rejected', 'failed', 'rolled_back', 'superseded', 'canceled'] as const;

export type DeploymentState = (typeof ACTIVE_PATH)[number] | (typeof TERMINAL_STATES)[number];
export type TerminalState = (typeof TERMINAL_STATES)[number];
export type NonTerminalState = Exclude<DeploymentState, TerminalState>;

export function isTerminal(state: DeploymentState): state is TerminalState {
  return (TERMINAL_STATES as readonly string[]).includes(state);
}

/** States after which the new model may be serving: a failure there means rollback. */
export function isPostActivation(state: DeploymentState): boolean {
  return state === 'activating' || state === 'probation';
}

export interface ModelRef {
  readonly name: string;
  readonly version: string;
}

export interface DeploymentError {
  /** A stable code from docs/errors.md, e.g. MANIFEST_BAD_SIGNATURE. */
  readonly code: string;
  readonly message: string;
}

export interface DeploymentReport {
  readonly v: typeof DEPLOYMENT_REPORT_VERSION;
  readonly deploymentId: string;
  /** `mqtt` (signed desired manifest) or `inbox` (package dropped into the state dir). */
  readonly source: 'mqtt' | 'inbox';
  readonly state: DeploymentState;
  /** Finer step inside a state, e.g. `download`, `sha256`, `intake`, `prepare`. */
  readonly stage: string;
  /** 0..1 within the current state, null when unknown. */
  readonly progress: number | null;
  /** Model being deployed (null until known, e.g. a rejected manifest that failed to parse). */
  readonly model: ModelRef | null;
  /** Model that served before this deployment (what a rollback returns to). */
  readonly previous: ModelRef | null;
  readonly error?: DeploymentError;
  /** ISO-8601. */
  readonly startedAt: string;
  readonly updatedAt: string;
  /** Deadline of the current non-terminal state (ISO-8601), absent when terminal. */
  readonly deadlineAt?: string;
  /** Increases by one with every report of this deployment; consumers drop older ones. */
  readonly seq: number;
}

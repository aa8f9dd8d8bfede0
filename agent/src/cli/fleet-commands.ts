import type { CommandSpec } from './types.js';
import { versionCommand } from './commands/version.js';
import { fleetKeysGenerateCommand } from './commands/fleet-keys.js';
import { fleetServeCommand } from './commands/fleet-serve.js';
import { fleetRolloutPlanCommand } from './commands/fleet-rollout-plan.js';
import { packageCreateCommand } from './commands/package-create.js';
import { fleetDeviceCommand, fleetDevicesCommand } from './commands/fleet-devices.js';
import { fleetSimulateCommand } from './commands/fleet-simulate.js';
import { fleetRequestCommand } from './commands/fleet-request.js';
import {
  fleetRolloutAbortCommand,
  fleetRolloutListCommand,
  fleetRolloutResumeCommand,
  fleetRolloutRollbackCommand,
  fleetRolloutStartCommand,
  fleetRolloutStatusCommand,
} from './commands/fleet-rollout.js';
import { fleetManifestCreateCommand, fleetManifestVerifyCommand } from './commands/fleet-manifest.js';
import { datasetCheckCommand } from './commands/dataset-check.js';
import { datasetResizeCommand } from './commands/dataset-resize.js';
import { fleetEvaluateCommand } from './commands/evaluate.js';

/** Every `jetson-fleet` command (operator / controller side). Features add one line each. */
export const fleetCommands: readonly CommandSpec[] = [
  versionCommand,
  fleetKeysGenerateCommand,
  packageCreateCommand,
  fleetManifestCreateCommand,
  fleetManifestVerifyCommand,
  fleetServeCommand,
  fleetRolloutPlanCommand,
  fleetRolloutStartCommand,
  fleetRolloutResumeCommand,
  fleetRolloutStatusCommand,
  fleetRolloutListCommand,
  fleetRolloutAbortCommand,
  fleetRolloutRollbackCommand,
  fleetDevicesCommand,
  fleetDeviceCommand,
  fleetRequestCommand,
  fleetSimulateCommand,
  datasetCheckCommand,
  datasetResizeCommand,
  fleetEvaluateCommand,
];

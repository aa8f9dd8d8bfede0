import type { CommandSpec } from './types.js';
import { versionCommand } from './commands/version.js';
import { fleetKeysGenerateCommand } from './commands/fleet-keys.js';
import { fleetServeCommand } from './commands/fleet-serve.js';
import { fleetRolloutPlanCommand } from './commands/fleet-rollout-plan.js';
import { packageCreateCommand } from './commands/package-create.js';

/** Every `jetson-fleet` command (operator / controller side). Features add one line each. */
export const fleetCommands: readonly CommandSpec[] = [
  versionCommand,
  packageCreateCommand,
  fleetKeysGenerateCommand,
  fleetServeCommand,
  fleetRolloutPlanCommand,
];

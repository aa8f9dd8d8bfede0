import type { CommandSpec } from './types.js';
import { versionCommand } from './commands/version.js';
import { packageCreateCommand } from './commands/package-create.js';

/** Every `jetson-fleet` command (operator / controller side). Features add one line each. */
export const fleetCommands: readonly CommandSpec[] = [versionCommand, packageCreateCommand];

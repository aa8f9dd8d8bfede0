import type { CommandSpec } from './types.js';
import { versionCommand } from './commands/version.js';

/** Every `jetson-fleet` command (operator / controller side). Features add one line each. */
export const fleetCommands: readonly CommandSpec[] = [versionCommand];

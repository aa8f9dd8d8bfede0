import type { CommandSpec } from './types.js';
import { runCommand } from './commands/run.js';
import { configCheckCommand, configDocsCommand, configPrintCommand } from './commands/config.js';
import { versionCommand } from './commands/version.js';
import { modelsActivateCommand } from './commands/models-activate.js';

/** Every `jetson-agent` command. Features add one line each. */
export const agentCommands: readonly CommandSpec[] = [
  runCommand,
  configPrintCommand,
  configCheckCommand,
  configDocsCommand,
  versionCommand,
  modelsActivateCommand,
];

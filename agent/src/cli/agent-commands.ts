import type { CommandSpec } from './types.js';
import { runCommand } from './commands/run.js';
import { configCheckCommand, configDocsCommand, configPrintCommand } from './commands/config.js';
import { versionCommand } from './commands/version.js';
import { detectCommand } from './commands/detect.js';
import { modelsAddCommand, modelsListCommand, modelsRemoveCommand } from './commands/models.js';
import { modelInspectCommand } from './commands/model-inspect.js';
import { specShowCommand } from './commands/spec-show.js';
import { convertCommand, enginesListCommand } from './commands/convert.js';
import { pluginBuildCommand } from './commands/plugin-build.js';
import { pluginInstallCommand } from './commands/plugin-install.js';
import { pluginRestoreCommand } from './commands/plugin-restore.js';
import { pluginStatusCommand } from './commands/plugin-status.js';
import { modelsActivateCommand } from './commands/models-activate.js';
import { runnerBuildCommand } from './commands/runner-build.js';
import { evaluateCommand } from './commands/evaluate.js';

/** Every `jetson-agent` command. Features add one line each. */
export const agentCommands: readonly CommandSpec[] = [
  runCommand,
  configPrintCommand,
  configCheckCommand,
  configDocsCommand,
  versionCommand,
  detectCommand,
  modelsAddCommand,
  modelsListCommand,
  modelsRemoveCommand,
  modelInspectCommand,
  specShowCommand,
  convertCommand,
  enginesListCommand,
  pluginBuildCommand,
  pluginInstallCommand,
  pluginRestoreCommand,
  pluginStatusCommand,
  modelsActivateCommand,
  runnerBuildCommand,
  evaluateCommand,
];

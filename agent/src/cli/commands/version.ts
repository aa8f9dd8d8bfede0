import { packageVersion } from '../program.js';
import type { CommandSpec } from '../types.js';

export const versionCommand: CommandSpec = {
  path: ['version'],
  summary: 'Print the agent version.',
  async run(ctx) {
    const version = await packageVersion();
    ctx.out.result({ version, node: process.version });
    ctx.out.print(version);
  },
};

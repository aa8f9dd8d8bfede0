import { createPluginContext } from '../../compose/plugin-context.js';
import { restorePlugin } from '../../plugin/restore.js';
import type { CommandSpec } from '../types.js';
import { stepPrinter } from './plugin-common.js';

export const pluginRestoreCommand: CommandSpec = {
  path: ['plugin', 'restore'],
  summary: 'Put the original libnvinfer_plugin back from the backup (atomic, verified), remove the diversion.',
  examples: ['sudo jetson-agent plugin restore'],
  async run(ctx) {
    const env = await ctx.agent();
    const r = await restorePlugin(await createPluginContext(env, stepPrinter(ctx, 'plugin restore')));
    ctx.out.result(r);
    ctx.out.print(r.changed ? `restored the original ${r.library} (sha256 ${r.sha256.slice(0, 12)}…)` : `nothing to do: ${r.library} is already the original`);
  },
};

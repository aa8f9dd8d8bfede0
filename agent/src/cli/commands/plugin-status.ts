import { createPluginContext } from '../../compose/plugin-context.js';
import { pluginStatus } from '../../plugin/status.js';
import type { CommandSpec } from '../types.js';
import { stepPrinter } from './plugin-common.js';

export const pluginStatusCommand: CommandSpec = {
  path: ['plugin', 'status'],
  summary: 'Show which libnvinfer_plugin is installed (system or custom), its backup and drift.',
  description:
    'Run as root it first recovers an interrupted install/restore from the root-only records (plugin.recordsDir); run as another user it reads the view root publishes and only reports. Exit code 0 also when drift is found; drift is in the output.',
  examples: ['jetson-agent plugin status', 'jetson-agent plugin status --json'],
  async run(ctx) {
    const env = await ctx.agent();
    // Run as root it may first finish an interrupted install/restore: its steps go to stderr.
    const st = await pluginStatus(await createPluginContext(env, stepPrinter(ctx, 'plugin status')));
    ctx.out.result(st);
    ctx.out.print(
      [
        `library  ${st.library ?? '(none)'}`,
        `sha256   ${st.sha256 ?? '-'}`,
        `origin   ${st.origin}${st.builtFor ? ` (built for ${st.builtFor.branch}, GPU_ARCHS ${st.builtFor.arch}, TensorRT ${st.builtFor.tensorrt})` : ''}`,
        `backup   ${st.backup ? `${st.backup.path} (${st.backup.sha256.slice(0, 12)}…)` : '-'}`,
        `drift    ${st.drift ? 'YES' : 'no'}: ${st.reason}`,
      ].join('\n'),
    );
  },
};

import path from 'node:path';
import { AgentError, UsageError } from '../../core/errors.js';
import { createPluginContext } from '../../compose/plugin-context.js';
import { lastArtifact } from '../../plugin/artifact.js';
import { stageBuild } from '../../plugin/stage.js';
import { installPlugin } from '../../plugin/swap.js';
import type { CommandSpec } from '../types.js';
import { optString, stepPrinter } from './plugin-common.js';

export const pluginInstallCommand: CommandSpec = {
  path: ['plugin', 'install'],
  summary: 'Swap the system libnvinfer_plugin for a built one: backup, checks, atomic replace, verify, rollback.',
  description:
    'Idempotent; safe to run as root from a separate helper. Refuses while dpkg/apt holds its lock. The original is backed up into <plugin.recordsDir>/backups/<sha256>/ (root-only) and a local dpkg diversion protects the swapped file from package upgrades where dpkg-divert is available.',
  options: {
    from: { type: 'string', arg: 'FILE', description: 'Library to install.' },
    'last-build': { type: 'boolean', description: 'Install the newest recorded `plugin build` output.' },
  },
  examples: ['sudo jetson-agent plugin install --last-build', 'sudo jetson-agent plugin install --from ./out/libnvinfer_plugin.so.7.1.3'],
  async run(ctx) {
    const env = await ctx.agent();
    const from = optString(ctx, 'from');
    const last = ctx.options['last-build'] === true;
    if (Boolean(from) === last) throw new UsageError('Pass exactly one of --from FILE or --last-build.');
    const pctx = await createPluginContext(env, stepPrinter(ctx, 'plugin install'));
    let candidateFile: string;
    let source: string;
    let cleanup = (): Promise<void> => Promise.resolve();
    let builtFor: { arch: string; branch: string; tensorrt: string } | null = null;
    if (last) {
      const a = await lastArtifact(pctx.state);
      if (!a) {
        throw new AgentError('PLUGIN_NO_BUILD', `No plugin build is recorded in ${pctx.state.buildsDir}.`, {
          hint: `Run "${ctx.program} plugin build" first, or pass --from FILE.`,
        });
      }
      // The build record is the agent's: install a checked root-only copy (stage.ts).
      const staged = await stageBuild(pctx, a);
      candidateFile = staged.file;
      source = a.file;
      cleanup = staged.cleanup;
      builtFor = { arch: a.gpuArchs.join(' '), branch: a.branch, tensorrt: a.treeVersion ?? a.tensorrt ?? '' };
    } else {
      candidateFile = path.resolve(from ?? '');
      source = candidateFile;
    }
    const r = await installPlugin(pctx, { candidateFile, source, builtFor }).finally(cleanup);
    ctx.out.result(r);
    ctx.out.print(
      r.changed
        ? `installed ${source} as ${r.library} (sha256 ${r.sha256.slice(0, 12)}…, load check: ${r.loadCheck}); original backed up in ${r.backup.dir}`
        : `already installed: ${r.library} (sha256 ${r.sha256.slice(0, 12)}…), verified`,
    );
  },
};

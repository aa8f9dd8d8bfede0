import { redactConfig } from '../../core/config/resolve.js';
import { configDocsTable } from '../../core/config/docs.js';
import { stringify } from 'yaml';
import type { CommandSpec } from '../types.js';

export const configPrintCommand: CommandSpec = {
  path: ['config', 'print'],
  summary: 'Print the effective configuration (file + env + flags + defaults), secrets redacted.',
  examples: ['jetson-agent config print', 'JETSON_AGENT_INFERENCE_PORT=9090 jetson-agent config print --json'],
  async run(ctx) {
    const env = await ctx.agent();
    const shown = { ...redactConfig(env.config), stateDir: env.stateDir };
    ctx.out.result({ configFile: env.configFile ?? null, config: shown });
    ctx.out.print(`# effective configuration${env.configFile ? ` (file: ${env.configFile})` : ' (no config file: defaults + env + flags)'}\n${stringify(shown)}`);
  },
};

export const configCheckCommand: CommandSpec = {
  path: ['config', 'check'],
  summary: 'Validate the configuration and report every problem at once.',
  async run(ctx) {
    const env = await ctx.agent();
    ctx.out.result({ ok: true, configFile: env.configFile ?? null });
    ctx.out.print(`ok: ${env.configFile ?? 'defaults'} is valid`);
  },
};

export const configDocsCommand: CommandSpec = {
  path: ['config', 'docs'],
  summary: 'Print the markdown table of every configuration key (docs/configuration.md).',
  async run(ctx) {
    await Promise.resolve();
    ctx.out.result({ markdown: configDocsTable() });
    ctx.out.print(configDocsTable());
  },
};

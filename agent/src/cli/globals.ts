import type { OptionSpec } from './types.js';

/** Flags every command accepts (issue #2 §4). */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  config: { type: 'string', arg: 'FILE', description: 'Configuration file (default /etc/jetson-agent/config.yaml when present).' },
  root: { type: 'string', arg: 'DIR', description: 'Host root to inspect and modify (default /).' },
  'state-dir': { type: 'string', arg: 'DIR', description: 'State directory (default /var/lib/jetson-agent, or a per-user dir).' },
  json: { type: 'boolean', description: 'Machine-readable JSON output.' },
  'log-level': { type: 'string', arg: 'LEVEL', description: 'fatal|error|warn|info|debug|trace|silent.' },
  help: { type: 'boolean', short: 'h', description: 'Show help for this command.' },
};

import path from 'node:path';
import type { Component } from '../core/lifecycle.js';
import { mkdirp } from '../platform/fs.js';
import type { AgentEnv } from '../core/agent-env.js';

/** State dir layout (docs/reference/design-rules.md "Cross-cutting rules"). */
export const STATE_SUBDIRS = ['builds', 'backups', 'packages', 'models', 'engines', 'inbox', 'deployments', 'logs'] as const;

export function stateLayoutComponent(env: AgentEnv): Component {
  return {
    name: 'state-layout',
    start: async () => {
      for (const sub of STATE_SUBDIRS) await mkdirp(path.join(env.stateDir, sub), 0o750);
      env.log.info({ stateDir: env.stateDir }, 'state directory ready');
    },
    stop: async () => {},
  };
}

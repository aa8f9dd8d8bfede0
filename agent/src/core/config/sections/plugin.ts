import { Type } from '@sinclair/typebox';

export const PluginSection = Type.Object(
  {
    gitUrl: Type.String({ default: 'https://github.com/NVIDIA/TensorRT', description: 'TensorRT OSS repository to clone.' }),
    jobs: Type.Integer({ default: 0, minimum: 0, description: 'make -j value; 0 = CPU count capped by available memory.' }),
    buildTimeoutSec: Type.Integer({ default: 7200, minimum: 60, description: 'Deadline for one plugin build.' }),
    cmakePath: Type.String({ default: '', description: 'cmake to use; empty = PATH, then /usr/local/bin, then $HOME/install/bin.' }),
    cudaCompiler: Type.String({ default: '', description: 'nvcc path; empty = PATH, then /usr/local/cuda/bin/nvcc.' }),
    helperPickupTimeoutSec: Type.Integer({
      default: 30,
      minimum: 1,
      description: 'MQTT plugin-rebuild: how long the root helper (jetson-agent-plugin.path) may take to pick up an install request before it counts as not installed/running.',
    }),
    helperTimeoutSec: Type.Integer({
      default: 660,
      minimum: 10,
      description: 'MQTT plugin-rebuild: how long to wait for the helper\'s result.json once it picked the request up (the unit allows 10 min).',
    }),
    driftCheckCron: Type.String({ default: '*/30 * * * *', description: 'When the daemon re-checks the installed plugin for drift.' }),
    recordsDir: Type.String({
      default: '/var/lib/jetson-agent-root',
      pattern: '^/',
      description:
        'Root-only directory (0700 root, under hostRoot) for the plugin swap records root acts on: journal, installed record, backups of the original, lock. Never the state dir: the agent account must not be able to write it. jetson-agent-plugin.service must be allowed to write it (its StateDirectory= is the default).',
    }),
  },
  { default: {}, additionalProperties: false },
);

import { Type } from '@sinclair/typebox';

/** Top-level keys of the agent itself. `secret: true` marks values redacted by `config print`. */
export const BaseSection = {
  deviceId: Type.String({
    default: '',
    description: 'Device id used as MQTT client id and in topics. Empty = derived from /etc/machine-id or the hostname.',
  }),
  hostRoot: Type.String({ default: '/', description: 'Root of the host file system (tests point it at a mirror tree).' }),
  stateDir: Type.String({
    default: '/var/lib/jetson-agent',
    description:
      'State directory. When the default is not writable (non-root dev machine) the agent uses $XDG_STATE_HOME/jetson-agent or ~/.local/state/jetson-agent.',
  }),
  groups: Type.Array(Type.String({ pattern: '^[A-Za-z0-9._-]+$' }), {
    default: [],
    description: 'Fleet groups this device belongs to (rollouts may target a group).',
  }),
  shutdownDeadlineMs: Type.Integer({
    default: 10000,
    minimum: 100,
    description: 'How long a graceful stop may take before the process exits hard (systemd TimeoutStopSec must be larger).',
  }),
  log: Type.Object(
    {
      level: Type.Union(
        ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
        { default: 'info', description: 'pino log level.' },
      ),
      pretty: Type.Boolean({ default: false, description: 'Human-readable log lines instead of JSON (needs pino-pretty).' }),
    },
    { default: {}, additionalProperties: false },
  ),
};

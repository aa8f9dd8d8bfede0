import { AgentError, UsageError } from '../../core/errors.js';
import { deviceRows, formatDeviceTable } from '../../fleet/devices-format.js';
import { FleetSession } from '../../fleet/fleet-session.js';
import { DEVICE_DEPLOYMENT_STATES } from '../../fleet/types.js';
import type { CommandSpec } from '../types.js';
import { BROKER_OPTIONS, brokerFrom } from './fleet-broker.js';

export const fleetDevicesCommand: CommandSpec = {
  path: ['devices'],
  summary: 'List the fleet from retained MQTT status, health, desired and reports: online/last seen, board, desired vs actual model with drift, health, plugin, deployment.',
  description:
    'DESIRED is what the retained desired asks for (the device\'s own, else its groups\' newest); ACTUAL is what its last health snapshot says it serves; DRIFT says ' +
    'in-sync, updating (working on its desired), DRIFT (serves something else, with why) or unknown. An offline device shows HEALTH offline, not its last snapshot. ' +
    '`--json` prints {devices: [...]}, which `jetson-fleet rollout plan --devices-file` reads as it is.',
  options: {
    ...BROKER_OPTIONS,
    group: { type: 'string', arg: 'G', description: 'Only devices in this group.' },
    state: { type: 'string', arg: 'S', description: 'Only devices that are online or offline, or whose last deployment report is in state S (active, failed, rolled_back, …).' },
    drift: { type: 'boolean', description: 'Only devices that do not serve what their desired asks for (DRIFT or unknown).' },
  },
  examples: [
    'jetson-fleet devices --broker mqtts://broker:8883 --group lab',
    'jetson-fleet devices --drift --state online $B',
    'jetson-fleet devices --json --config fleet.yaml > devices.json && jetson-fleet rollout plan --devices-file devices.json --target all',
  ],
  async run(ctx) {
    const state = typeof ctx.options.state === 'string' ? ctx.options.state : undefined;
    if (state !== undefined && !['online', 'offline', ...DEVICE_DEPLOYMENT_STATES].includes(state)) {
      throw new UsageError(`--state must be online, offline or a deployment state (${DEVICE_DEPLOYMENT_STATES.join(', ')}), not "${state}".`);
    }
    const broker = await brokerFrom(ctx);
    const session = await FleetSession.open(broker.connect, broker.prefix, { devices: true, groups: true });
    try {
      const group = typeof ctx.options.group === 'string' ? ctx.options.group : undefined;
      const rows = deviceRows(session.view, { ...(group !== undefined ? { group } : {}), ...(state !== undefined ? { state } : {}), ...(ctx.options.drift === true ? { drift: true } : {}) });
      ctx.out.result({ devices: rows });
      ctx.out.print(formatDeviceTable(rows, Date.now()));
    } finally {
      await session.close();
    }
  },
};

export const fleetDeviceCommand: CommandSpec = {
  path: ['device'],
  summary: 'Show one device: retained status, full health snapshot and last deployment report.',
  options: { ...BROKER_OPTIONS },
  positionals: [{ name: 'ID', required: true, description: 'Device id.' }],
  async run(ctx) {
    const id = ctx.positionals[0];
    if (!id) throw new UsageError('Missing the device id.', 'Example: jetson-fleet device jetson-0042');
    const broker = await brokerFrom(ctx);
    const session = await FleetSession.open(broker.connect, broker.prefix, { devices: true, groups: true });
    try {
      const v = session.view;
      const status = v.status.get(id)?.value ?? null;
      const health = v.health.get(id)?.value ?? null;
      const deployment = v.reports.get(id)?.value ?? null;
      if (!status && !health && !deployment) {
        throw new AgentError('FLEET_DEVICE_NOT_FOUND', `No retained status, health or deployment report for device "${id}" under ${broker.prefix}/devices/.`, {
          hint: 'Check the id with `jetson-fleet devices`, the broker and --topic-prefix.',
        });
      }
      const row = deviceRows(v).find((r) => r.id === id);
      ctx.out.result({ id, status, health, deployment, desired: row?.desired ?? null, actual: row?.actual ?? null, drift: row?.drift ?? 'none', driftReason: row?.driftReason ?? null });
      const lines = [
        `device ${id}: ${status?.state ?? 'unknown'}${status?.agentVersion === 'simulator' ? ' (SIMULATED)' : ''}${status?.ts ? ` since ${status.ts}` : ''}`,
        `  board: ${status?.board?.model ?? '-'} · SoC ${status?.board?.soc ?? '-'} · JetPack ${status?.board?.jetpack ?? '-'} · TensorRT ${status?.board?.tensorrt ?? '-'} · groups ${(status?.groups ?? []).join(', ') || '-'}`,
        `  health: ${health ? `${status?.state === 'offline' ? `offline (last snapshot: ${health.status} at ${health.ts})` : `${health.status} at ${health.ts}`}` : '-'}`,
        `  desired: ${row?.desired ? `${row.desired.model.name} ${row.desired.model.version} (${row.desired.deploymentId}, ${row.desired.source})` : '-'} · actual: ${row?.actual ? `${row.actual.name} ${row.actual.version}` : '-'} · drift: ${row?.drift ?? 'none'}${row?.driftReason ? ` (${row.driftReason})` : ''}`,
        ...(health?.reasons ?? []).map((r) => `    ${r.severity} ${r.code}: ${r.message}`),
        `  model: ${health?.agent.model ? `${health.agent.model.name} ${health.agent.model.version} (${health.agent.model.state})` : '-'} · plugin ${health?.agent.plugin?.status ?? '-'}`,
        `  deployment: ${deployment ? `${deployment.deploymentId} ${deployment.state} (stage ${deployment.stage}, seq ${deployment.seq}, updated ${deployment.updatedAt})` : '-'}`,
        ...(deployment?.error ? [`    error ${deployment.error.code}: ${deployment.error.message}`] : []),
        '',
        'health snapshot:',
        JSON.stringify(health, null, 2),
      ];
      ctx.out.print(lines.join('\n'));
    } finally {
      await session.close();
    }
  },
};

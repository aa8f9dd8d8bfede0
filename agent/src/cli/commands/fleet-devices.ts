import { AgentError, UsageError } from '../../core/errors.js';
import { deviceRows, formatDeviceTable } from '../../fleet/devices-format.js';
import { FleetSession } from '../../fleet/fleet-session.js';
import type { CommandSpec } from '../types.js';
import { BROKER_OPTIONS, brokerFrom } from './fleet-broker.js';

export const fleetDevicesCommand: CommandSpec = {
  path: ['devices'],
  summary: 'List the fleet from retained MQTT status and health: online/last seen, board, JetPack, TensorRT, model, health, plugin, deployment.',
  options: { ...BROKER_OPTIONS, group: { type: 'string', arg: 'G', description: 'Only devices in this group.' } },
  examples: ['jetson-fleet devices --broker mqtts://broker:8883 --group lab', 'jetson-fleet devices --json --config fleet.yaml'],
  async run(ctx) {
    const broker = await brokerFrom(ctx);
    const session = await FleetSession.open(broker.connect, broker.prefix, { devices: true });
    try {
      const group = typeof ctx.options.group === 'string' ? ctx.options.group : undefined;
      const rows = deviceRows(session.view, group);
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
    const session = await FleetSession.open(broker.connect, broker.prefix, { devices: true });
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
      ctx.out.result({ id, status, health, deployment });
      const lines = [
        `device ${id}: ${status?.state ?? 'unknown'}${status?.agentVersion === 'simulator' ? ' (SIMULATED)' : ''}${status?.ts ? ` since ${status.ts}` : ''}`,
        `  board: ${status?.board?.model ?? '-'} · SoC ${status?.board?.soc ?? '-'} · JetPack ${status?.board?.jetpack ?? '-'} · TensorRT ${status?.board?.tensorrt ?? '-'} · groups ${(status?.groups ?? []).join(', ') || '-'}`,
        `  health: ${health ? `${health.status} at ${health.ts}` : '-'}`,
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

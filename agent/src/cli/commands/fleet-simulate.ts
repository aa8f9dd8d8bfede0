import { UsageError } from '../../core/errors.js';
import { KeyRing } from '../../core/envelope.js';
import { assertTopicLevel } from '../../core/contracts/topics.js';
import { SimulatedFleet } from '../../fleet/simulator/fleet.js';
import { FD_HEADROOM, parseOpenFilesLimit } from '../../fleet/simulator/fd-limit.js';
import { readTextMaybe } from '../../platform/fs.js';
import type { CommandSpec } from '../types.js';
import { BROKER_OPTIONS, brokerFrom, trustedKeysFrom } from './fleet-broker.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function rate(v: unknown, flag: string, dflt: number): number {
  const s = str(v);
  if (s === undefined) return dflt;
  const n = s.endsWith('%') ? Number(s.slice(0, -1)) / 100 : Number(s);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`Bad ${flag} "${s}": give a fraction 0..1 or a percentage such as 2%.`);
  return n;
}

export const fleetSimulateCommand: CommandSpec = {
  path: ['simulate'],
  summary: 'Run N SIMULATED devices (not the agent) against a broker, speaking the device protocol, for tests, demos and the scale benchmark.',
  description:
    'Each simulated device publishes a retained online status with a last will and a retained health snapshot, subscribes to its desired ' +
    'topic and its group desired, verifies manifests with the trusted public keys exactly like the agent, and reports the deployment states ' +
    '(received … active) with seq. --fail-rate devices fail at warming; --offline-rate devices register and then go offline. A signed ' +
    'rollback request rolls a device back. One MQTT connection per device. Runs until SIGINT/SIGTERM.',
  options: {
    ...BROKER_OPTIONS,
    devices: { type: 'string', arg: 'N', description: 'How many simulated devices (default 10).' },
    group: { type: 'string', arg: 'G', description: 'Their group (default sim).' },
    'id-prefix': { type: 'string', arg: 'P', description: 'Device id prefix (default sim-GROUP); ids are P-0000, P-0001, …' },
    'first-index': { type: 'string', arg: 'I', description: 'First device number (default 0).' },
    'fail-rate': { type: 'string', arg: 'R', description: 'Fraction or % of devices that fail their deployments (default 0).' },
    'offline-rate': { type: 'string', arg: 'R', description: 'Fraction or % of devices that register and then go offline (default 0).' },
    'delay-ms': { type: 'string', arg: 'MS', description: 'Delay between two deployment states (default 200).' },
    'public-key': { type: 'string', multiple: true, arg: 'FILE', description: 'Trusted public key PEM (default: rollout.fleetPublicKeys of --config).' },
  },
  examples: ['jetson-fleet simulate --devices 1000 --broker mqtt://localhost:1883 --username fleet-controller --password … --public-key keys/fleet.pub --fail-rate 2%'],
  async run(ctx) {
    const count = Number(str(ctx.options.devices) ?? '10');
    if (!Number.isInteger(count) || count < 1 || count > 100000) throw new UsageError('--devices must be an integer 1..100000.');
    const group = str(ctx.options.group) ?? 'sim';
    assertTopicLevel('group', group);
    const delay = Number(str(ctx.options['delay-ms']) ?? '200');
    const first = Number(str(ctx.options['first-index']) ?? '0');
    if (!Number.isInteger(delay) || delay < 0 || !Number.isInteger(first) || first < 0) throw new UsageError('--delay-ms and --first-index must be non-negative integers.');
    const fdLimit = parseOpenFilesLimit((await readTextMaybe('/proc/self/limits')) ?? '');
    if (fdLimit !== undefined && fdLimit < count + FD_HEADROOM) {
      throw new UsageError(
        `--devices ${count} needs about ${count + FD_HEADROOM} file descriptors (one MQTT connection per simulated device); the limit is ${fdLimit}.`,
        `Raise it for this shell (ulimit -n ${count + 1024}) or simulate fewer devices per process (--first-index splits a fleet across processes). The broker needs as many.`,
      );
    }
    const broker = await brokerFrom(ctx);
    const keys = new KeyRing(await trustedKeysFrom(ctx));
    const idPrefix = str(ctx.options['id-prefix']);
    const fleet = new SimulatedFleet({
      count, group, prefix: broker.prefix, keys, connect: broker.connect, stepDelayMs: delay, firstIndex: first,
      failRate: rate(ctx.options['fail-rate'], '--fail-rate', 0),
      offlineRate: rate(ctx.options['offline-rate'], '--offline-rate', 0),
      ...(idPrefix ? { idPrefix } : {}),
    });
    try {
      await fleet.start();
      const online = count - fleet.offline.length;
      ctx.out.info(`SIMULATOR: ${online} simulated device(s) online, ${fleet.offline.length} offline, group ${group}, broker ${broker.url.replace(/\/\/[^@/]*@/, '//***@')}`);
      ctx.out.result({ simulated: true, online, offline: fleet.offline, ids: fleet.devices.map((d) => d.id) });
      ctx.out.print(`ready: ${online} simulated device(s) online`);
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      await fleet.stop();
    }
  },
};

import type { BusFactory } from '../../core/contracts/bus.js';
import type { KeyRing } from '../../core/envelope.js';
import { SimulatedDevice } from './device.js';

export interface SimFleetOptions {
  readonly count: number;
  readonly group: string;
  /** Device ids are `${idPrefix}-0000`…; default `sim-${group}`. */
  readonly idPrefix?: string;
  /** First index (so several simulators can add up to one fleet). */
  readonly firstIndex?: number;
  readonly prefix: string;
  readonly keys: KeyRing;
  readonly connect: BusFactory;
  readonly failRate: number;
  readonly offlineRate: number;
  readonly stepDelayMs: number;
  /** Connections opened at once (a thousand simultaneous TCP handshakes overrun small listen backlogs). */
  readonly concurrency?: number;
  readonly now?: () => number;
}

/**
 * Exactly round(n × rate) of n devices, spread evenly (every 1/rate-th device) and never the
 * first one (the canary), so a run is reproducible and "2%" means 20 of 1,000.
 */
export function picked(index: number, rate: number, offset = 0): boolean {
  if (rate <= 0) return false;
  const i = index + offset;
  return Math.floor((i + 1) * rate) > Math.floor(i * rate) && index !== 0;
}

/** A SIMULATED fleet: N SimulatedDevice in one process, one MQTT connection each. */
export class SimulatedFleet {
  readonly devices: SimulatedDevice[] = [];
  /** Ids registered, then gracefully offline (`--offline-rate`). */
  readonly offline: string[] = [];

  constructor(private readonly o: SimFleetOptions) {}

  async start(): Promise<void> {
    const o = this.o;
    const prefix = o.idPrefix ?? `sim-${o.group}`;
    const first = o.firstIndex ?? 0;
    const todo: { dev: SimulatedDevice; off: boolean }[] = [];
    for (let i = 0; i < o.count; i++) {
      const id = `${prefix}-${String(first + i).padStart(4, '0')}`;
      const dev = new SimulatedDevice({
        id, groups: [o.group], prefix: o.prefix, keys: o.keys, connect: o.connect, stepDelayMs: o.stepDelayMs,
        fails: picked(first + i, o.failRate), now: o.now ?? Date.now,
      });
      this.devices.push(dev);
      todo.push({ dev, off: picked(first + i, o.offlineRate, 7) });
    }
    const width = o.concurrency ?? 50;
    for (let i = 0; i < todo.length; i += width) {
      await Promise.all(
        todo.slice(i, i + width).map(async ({ dev, off }) => {
          await dev.start();
          if (off) {
            await dev.stop();
            this.offline.push(dev.id);
          }
        }),
      );
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.devices.map((d) => d.stop()));
  }
}

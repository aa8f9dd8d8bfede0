import type { Logger } from '../core/log.js';
import type { Component } from '../core/lifecycle.js';
import type { HealthSnapshot } from '../core/contracts/health.js';
import type { HostPaths } from '../platform/paths.js';
import type { Clock } from '../platform/clock.js';
import { buildSnapshot, type AgentReading, type JetsonReading, type Thresholds } from './snapshot.js';
import { SystemReader } from './system-reader.js';
import { readGpuLoadPct, readNvpmodel, readPowerRails, readThermalZones } from './sysfs.js';
import type { TegrastatsReader } from './tegrastats-reader.js';

/**
 * Health telemetry (issue #6 §3): every `health.intervalSec` collect readings (/proc,
 * sysfs via the host root, the tegrastats reader, agent stats from the composition root), build
 * the pure snapshot and hand it to `publish` (retained on `{p}/devices/{id}/health`).
 */
export interface AgentStatsSource {
  /** Cumulative request/error counters and the latencies since the last call (drained). */
  inference(): { requests: number; errors: number; latenciesMs: number[]; swap?: AgentReading['swap'] };
  model(): AgentReading['model'];
  plugin(): AgentReading['plugin'];
  lastDeployment(): AgentReading['lastDeployment'];
}

const NO_SWAP: AgentReading['swap'] = { heldRequests: 0, rejectedRequests: 0, longestHoldMs: null };

/** Until the inference service (issue #5) is wired: no model, no traffic. */
export const noAgentStats: AgentStatsSource = {
  inference: () => ({ requests: 0, errors: 0, latenciesMs: [] }),
  model: () => null,
  plugin: () => null,
  lastDeployment: () => null,
};

export interface HealthServiceOptions {
  readonly deviceId: string;
  readonly isJetson: boolean;
  readonly paths: HostPaths;
  readonly stateDir: string;
  readonly agentVersion: string;
  readonly intervalSec: number;
  readonly thresholds: Thresholds;
  readonly tegrastats: TegrastatsReader | null;
  readonly tegrastatsInstalled: boolean;
  readonly stats: AgentStatsSource;
  readonly publish: (s: HealthSnapshot) => Promise<void>;
  readonly log: Logger;
  readonly clock: Clock;
}

export class HealthService implements Component {
  readonly name = 'health';
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private lastCounters = { requests: 0, errors: 0 };
  private readonly started = Date.now();
  private readonly system = new SystemReader();

  constructor(private readonly o: HealthServiceOptions) {}

  async collect(): Promise<HealthSnapshot> {
    const o = this.o;
    const thermal = await readThermalZones(o.paths);
    const system = await this.system.read(o.stateDir, thermal);
    let jetson: JetsonReading | null = null;
    if (o.isJetson || o.tegrastats) {
      const [gpuLoadPct, rails, nvpmodel] = await Promise.all([readGpuLoadPct(o.paths), readPowerRails(o.paths), readNvpmodel(o.paths)]);
      const ts = o.tegrastats?.state;
      jetson = {
        tegrastatsInstalled: o.tegrastatsInstalled,
        tegrastats: { running: ts?.running ?? false, restarts: ts?.restarts ?? 0, sample: ts?.sample ?? null },
        gpuLoadPct,
        thermal,
        rails,
        nvpmodel,
      };
    }
    const inf = o.stats.inference();
    const agent: AgentReading = {
      version: o.agentVersion,
      uptimeSec: Math.round((Date.now() - this.started) / 1000),
      rssBytes: process.memoryUsage.rss(),
      model: o.stats.model(),
      requests: Math.max(0, inf.requests - this.lastCounters.requests),
      errors: Math.max(0, inf.errors - this.lastCounters.errors),
      latenciesMs: inf.latenciesMs,
      swap: inf.swap ?? NO_SWAP,
      plugin: o.stats.plugin(),
      lastDeployment: o.stats.lastDeployment(),
    };
    this.lastCounters = { requests: inf.requests, errors: inf.errors };
    return buildSnapshot({ now: o.clock.now(), deviceId: o.deviceId, isJetson: o.isJetson, system, jetson, agent, thresholds: o.thresholds });
  }

  /** Collect and publish once; overlapping ticks are skipped (no pile-up on a slow board). */
  tick(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        await this.o.publish(await this.collect());
      } catch (err) {
        this.o.log.warn({ err: String(err) }, 'health snapshot not published');
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  async start(): Promise<void> {
    await this.o.tegrastats?.start();
    void this.tick();
    this.timer = this.o.clock.setInterval(() => void this.tick(), this.o.intervalSec * 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) this.o.clock.clearInterval(this.timer);
    await this.inflight;
    await this.o.tegrastats?.stop();
  }
}

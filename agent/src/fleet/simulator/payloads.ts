import { TOPIC_PAYLOAD_VERSION, type StatusPayload } from '../../core/contracts/topics.js';
import type { HealthSnapshot } from '../../core/contracts/health.js';
import type { ModelRef } from '../../core/contracts/deployment.js';

/** The board every simulated device claims to be (an Orin NX on JetPack 5.1.2). */
export const SIM_BOARD = { isJetson: true, model: 'SIMULATED Jetson Orin NX', soc: 'tegra234', jetpack: '5.1.2', tensorrt: '8.5.2.2', cudaArch: 87 } as const;
export const SIM_FREE_DISK = 20 * 1024 ** 3;
export const SIM_AGENT_VERSION = 'simulator';

export function simStatus(groups: readonly string[], now: number): StatusPayload {
  return { v: TOPIC_PAYLOAD_VERSION, state: 'online', ts: new Date(now).toISOString(), agentVersion: SIM_AGENT_VERSION, board: SIM_BOARD, groups };
}

export function simHealth(deviceId: string, now: number, model: ModelRef | null): HealthSnapshot {
  return {
    v: 1,
    ts: new Date(now).toISOString(),
    deviceId,
    status: 'ok',
    reasons: [],
    system: {
      cpuLoadPct: [5, 5],
      cpuLoadAvgPct: 5,
      memory: { totalBytes: 8 * 1024 ** 3, usedBytes: 2 * 1024 ** 3, availableBytes: 6 * 1024 ** 3 },
      swap: { totalBytes: 0, usedBytes: 0 },
      disk: { path: '/var/lib/jetson-agent', totalBytes: 64 * 1024 ** 3, freeBytes: SIM_FREE_DISK },
      network: [],
      uptimeSec: 1,
      cpuTempC: 45,
    },
    jetson: null,
    agent: {
      version: SIM_AGENT_VERSION,
      uptimeSec: 1,
      rssBytes: 0,
      model: model ? { ...model, backend: 'simulated', state: 'ready' } : null,
      inference: { requests: 0, errors: 0, latencyP50Ms: null, latencyP99Ms: null, swap: { heldRequests: 0, rejectedRequests: 0, longestHoldMs: null } },
      plugin: null,
      lastDeployment: null,
    },
  };
}

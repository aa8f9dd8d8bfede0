import type { DeploymentReport as WireReport } from '../core/contracts/deployment.js';
import type { HealthSnapshot } from '../core/contracts/health.js';
import { parseTopic, type StatusPayload } from '../core/contracts/topics.js';
import { DEVICE_DEPLOYMENT_STATES, type DeviceObservation, type DeviceRecord } from './types.js';

interface Seen<T> {
  readonly value: T;
  readonly at: number;
}

/**
 * The controller's picture of the fleet, built from retained and live device messages
 * (status, health, deployment, desired). Times are the controller's clock (types.ts: gate
 * times must not depend on board clock skew). Malformed payloads are dropped, never thrown.
 */
export class FleetView {
  readonly status = new Map<string, Seen<StatusPayload>>();
  readonly health = new Map<string, Seen<HealthSnapshot> & { readonly healthySince: number }>();
  readonly reports = new Map<string, Seen<WireReport> & { readonly stateSince: number }>();
  /** Current retained desired (raw envelope bytes as text; '' = none). */
  readonly desired = new Map<string, string>();
  /**
   * Live deployment reports that skipped a `seq` of their deployment (the reports in between
   * never arrived): evidence that the broker dropped messages to this controller, which then
   * re-reads retained reports (runner.ts).
   */
  gaps = 0;
  /** Retained group desired by group name (raw envelope text), when subscribed. */
  readonly groupDesired = new Map<string, string>();

  constructor(private readonly prefix: string) {}

  /** Returns the device id the message was about, or null when it is not a device message. */
  handle(topic: string, payload: Buffer, now: number, retained = false): string | null {
    const p = parseTopic(this.prefix, topic);
    if (p?.kind === 'groupDesired') {
      if (payload.length) this.groupDesired.set(p.group, payload.toString('utf8'));
      else this.groupDesired.delete(p.group);
      return null;
    }
    if (!p || !('deviceId' in p)) return null;
    const id = p.deviceId;
    if (p.kind === 'desired') {
      this.desired.set(id, payload.toString('utf8'));
      return id;
    }
    if (p.kind !== 'status' && p.kind !== 'health' && p.kind !== 'deployment') return null;
    let v: unknown;
    try {
      v = payload.length ? JSON.parse(payload.toString('utf8')) : null;
    } catch {
      return null;
    }
    if (typeof v !== 'object' || v === null) {
      // An empty retained message clears the topic (device deleted).
      if (p.kind === 'status') this.status.delete(id);
      if (p.kind === 'health') this.health.delete(id);
      if (p.kind === 'deployment') this.reports.delete(id);
      return id;
    }
    if (p.kind === 'status') {
      const s = v as StatusPayload;
      if (s.state === 'online' || s.state === 'offline') this.status.set(id, { value: s, at: now });
    } else if (p.kind === 'health') {
      const h = v as HealthSnapshot;
      if (typeof h.status !== 'string') return null;
      const before = this.health.get(id);
      const same = before && isHealthy(before.value) === isHealthy(h);
      this.health.set(id, { value: h, at: now, healthySince: same ? before.healthySince : now });
    } else {
      const r = v as WireReport;
      if (typeof r.deploymentId !== 'string' || !(DEVICE_DEPLOYMENT_STATES as readonly string[]).includes(r.state) || typeof r.seq !== 'number') return null;
      const before = this.reports.get(id);
      if (before && before.value.deploymentId === r.deploymentId && before.value.seq > r.seq) return id; // older report: dropped
      // A live report one past the last seen is the normal case; a retained one is a snapshot.
      if (!retained && r.seq > (before?.value.deploymentId === r.deploymentId ? before.value.seq : 0) + 1) this.gaps++;
      const same = before && before.value.deploymentId === r.deploymentId && before.value.state === r.state;
      this.reports.set(id, { value: r, at: now, stateSince: same ? before.stateSince : now });
    }
    return id;
  }

  ids(): string[] {
    return [...new Set([...this.status.keys(), ...this.health.keys()])].sort();
  }

  record(id: string): DeviceRecord {
    const s = this.status.get(id);
    const h = this.health.get(id);
    const b = s?.value.board;
    return {
      id,
      online: s?.value.state === 'online',
      lastSeen: Math.max(s?.at ?? -1, h?.at ?? -1) >= 0 ? Math.max(s?.at ?? 0, h?.at ?? 0) : null,
      groups: s?.value.groups ?? [],
      board: { soc: b?.soc ?? null, cudaArch: b?.cudaArch ?? null, tensorrt: b?.tensorrt ?? null, jetpack: b?.jetpack ?? null },
      freeDiskBytes: h?.value.system.disk.freeBytes ?? null,
    };
  }

  records(): DeviceRecord[] {
    return this.ids().map((id) => this.record(id));
  }

  observation(id: string): DeviceObservation {
    const s = this.status.get(id);
    const h = this.health.get(id);
    const r = this.reports.get(id);
    return {
      online: s?.value.state === 'online',
      ...(r
        ? {
            report: {
              deploymentId: r.value.deploymentId,
              state: r.value.state,
              since: r.stateSince,
              ...(r.value.error ? { error: { code: r.value.error.code, message: r.value.error.message } } : {}),
            },
          }
        : {}),
      ...(h ? { health: { healthy: isHealthy(h.value), since: h.healthySince, reasons: h.value.reasons.map((x) => `${x.code}: ${x.message}`) } } : {}),
    };
  }
}

/** `degraded` (e.g. warm, low disk) still serves; only `failed` fails a health gate. */
export function isHealthy(h: HealthSnapshot): boolean {
  return h.status !== 'failed';
}

import { UsageError } from '../core/errors.js';
import { removedPlugins, removedPluginsFix } from '../core/tensorrt-plugins.js';
import { satisfies } from './versions.js';
import type { DeviceRecord, Requirements, ResolvedTargets, SkippedDevice, TargetSelector } from './types.js';

/** `--target all | group:NAME | devices:a,b,…` */
export function parseTargetSelector(text: string): TargetSelector {
  const s = text.trim();
  const hint = 'Use --target all, --target group:NAME or --target devices:ID,ID,…';
  if (s === 'all') return { kind: 'all' };
  if (s.startsWith('group:')) {
    const group = s.slice('group:'.length).trim();
    if (!group) throw new UsageError(`Bad --target "${text}": empty group name.`, hint);
    return { kind: 'group', group };
  }
  if (s.startsWith('devices:')) {
    const ids = [...new Set(s.slice('devices:'.length).split(',').map((x) => x.trim()).filter(Boolean))];
    if (ids.length === 0) throw new UsageError(`Bad --target "${text}": no device ids.`, hint);
    return { kind: 'devices', ids };
  }
  throw new UsageError(`Bad --target "${text}".`, hint);
}

const fmtBytes = (n: number): string => `${(n / 2 ** 30).toFixed(1)} GiB`;

/**
 * Why `device` cannot take a deployment with `req` (empty = compatible). An unknown board
 * value under a requirement is incompatible: the controller cannot show it fits, and an
 * engine built for the wrong TensorRT or arch does not load. Unknown free disk is not: it is
 * transient, and the device checks space itself before downloading.
 */
export function incompatibilities(device: DeviceRecord, req: Requirements): string[] {
  const out: string[] = [];
  const b = device.board;
  if (req.soc?.length && !(b.soc && req.soc.includes(b.soc))) out.push(`SoC ${b.soc ?? 'unknown'} not in ${req.soc.join('|')}`);
  if (req.cudaArch?.length && !(b.cudaArch !== null && req.cudaArch.includes(b.cudaArch))) out.push(`CUDA arch ${b.cudaArch ?? 'unknown'} not in ${req.cudaArch.join('|')}`);
  if (req.tensorrt && !(b.tensorrt && satisfies(b.tensorrt, req.tensorrt))) out.push(`TensorRT ${b.tensorrt ?? 'unknown'} not in "${req.tensorrt}"`);
  if (req.jetpack && !(b.jetpack && satisfies(b.jetpack, req.jetpack))) out.push(`JetPack ${b.jetpack ?? 'unknown'} not in "${req.jetpack}"`);
  if (req.minFreeDiskBytes !== undefined && device.freeDiskBytes !== null && device.freeDiskBytes < req.minFreeDiskBytes) {
    out.push(`free disk ${fmtBytes(device.freeDiskBytes)} < ${fmtBytes(req.minFreeDiskBytes)}`);
  }
  const removed = removedPlugins(b.tensorrt, req.plugins ?? []);
  if (removed.length) out.push(`TensorRT ${b.tensorrt ?? ''} has no ${removed.join(', ')} (removed in TensorRT 11): ${removedPluginsFix(removed)}`);
  return out;
}

function selected(selector: TargetSelector, devices: readonly DeviceRecord[]): { picked: DeviceRecord[]; unknown: string[] } {
  switch (selector.kind) {
    case 'all':
      return { picked: [...devices], unknown: [] };
    case 'group':
      return { picked: devices.filter((d) => d.groups.includes(selector.group)), unknown: [] };
    case 'devices': {
      const byId = new Map(devices.map((d) => [d.id, d]));
      const picked: DeviceRecord[] = [];
      const unknown: string[] = [];
      for (const id of selector.ids) {
        const d = byId.get(id);
        if (d) picked.push(d);
        else unknown.push(id);
      }
      return { picked, unknown };
    }
  }
}

/**
 * Order devices so the first waves see every SoC early: round-robin over SoCs (sorted),
 * ids sorted within each. A canary wave of 3 on a mixed Nano/Xavier/Orin fleet then holds
 * one of each instead of three Nanos (docs/reference/fleet-rollouts.md "Recommendations applied" #3, per-SKU canaries).
 */
export function interleaveBySoc(devices: readonly DeviceRecord[]): DeviceRecord[] {
  const groups = new Map<string, DeviceRecord[]>();
  for (const d of [...devices].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const key = d.board.soc ?? '';
    const list = groups.get(key) ?? [];
    list.push(d);
    groups.set(key, list);
  }
  const lists = [...groups.keys()].sort().map((k) => groups.get(k) ?? []);
  const out: DeviceRecord[] = [];
  for (let i = 0; out.length < devices.length; i++) {
    for (const l of lists) {
      const d = l[i];
      if (d) out.push(d);
    }
  }
  return out;
}

/**
 * Targets → online (wave order), offline (pending: they keep the retained desired and catch
 * up), skipped with reasons. Online devices come first so early waves produce evidence;
 * offline ones fill the later waves.
 */
export function resolveTargets(selector: TargetSelector, devices: readonly DeviceRecord[], req: Requirements): ResolvedTargets {
  const { picked, unknown } = selected(selector, devices);
  const skipped: SkippedDevice[] = unknown.map((id) => ({ id, reason: 'unknown-device', details: ['no status was ever seen from this device'] }));
  const compatible: DeviceRecord[] = [];
  for (const d of picked) {
    const why = incompatibilities(d, req);
    if (why.length) skipped.push({ id: d.id, reason: 'incompatible', details: why });
    else compatible.push(d);
  }
  const ordered = interleaveBySoc(compatible);
  return {
    online: ordered.filter((d) => d.online).map((d) => d.id),
    offline: ordered.filter((d) => !d.online).map((d) => d.id),
    skipped,
  };
}

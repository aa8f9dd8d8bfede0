import type { DeviceView, ErrorGroup } from './types.js';

/** How many error codes a rollout record keeps (and `rollout status` shows). */
export const ERROR_GROUPS_KEPT = 5;

/**
 * The rollout's failures grouped by error code, most devices first (ties by code), with one
 * device's message as the example. Pure. A failed view without a code (a report that carried
 * no error) is grouped under its device state in capitals, so nothing is left out of the counts.
 */
export function summarizeErrors(devices: readonly DeviceView[], limit = ERROR_GROUPS_KEPT): ErrorGroup[] {
  const groups = new Map<string, { devices: number; example: { id: string; message: string } }>();
  for (const v of devices) {
    if (v.outcome !== 'failure') continue;
    const code = v.code ?? (v.state ?? v.status).toUpperCase();
    const message = v.reason?.startsWith(`${code}: `) ? v.reason.slice(code.length + 2) : (v.reason ?? v.status);
    const g = groups.get(code);
    if (g) g.devices++;
    else groups.set(code, { devices: 1, example: { id: v.id, message } });
  }
  return [...groups.entries()]
    .map(([code, g]) => ({ code, devices: g.devices, example: g.example }))
    .sort((a, b) => b.devices - a.devices || a.code.localeCompare(b.code))
    .slice(0, limit);
}

/** `ENGINE_FAILED ×3 (e.g. jet-a: …)`, one line per code. */
export function formatErrorGroups(groups: readonly ErrorGroup[]): string[] {
  return groups.map((g) => `${g.code} ×${g.devices} (e.g. ${g.example.id}: ${g.example.message})`);
}

import os from 'node:os';
import type { HostPaths } from './paths.js';
import { readTextMaybe } from './fs.js';

/** Host identity (DESIGN §3: OS calls only in platform/). */
export async function machineId(paths: HostPaths): Promise<string | null> {
  const text = (await readTextMaybe(paths.toHost('/etc/machine-id')).catch(() => undefined))?.trim();
  return text ? text : null;
}

export function hostName(): string {
  return os.hostname();
}

import os from 'node:os';
import type { HostPaths } from './paths.js';
import { readTextMaybe } from './fs.js';

/** Host identity (docs/reference/design-rules.md "Cross-cutting rules": OS calls only in platform/). */
export async function machineId(paths: HostPaths): Promise<string | null> {
  const text = (await readTextMaybe(paths.toHost('/etc/machine-id')).catch(() => undefined))?.trim();
  return text ? text : null;
}

export function hostName(): string {
  return os.hostname();
}

/**
 * Whether this process runs as root. Plugin records and backups are written by root (the
 * install/restore helper) and only read by the unprivileged agent; recovering an interrupted
 * swap rewrites the system library, so only root may do it.
 */
export function isPrivileged(): boolean {
  return process.getuid?.() === 0;
}

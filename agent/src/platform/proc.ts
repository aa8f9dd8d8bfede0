import { readTextMaybe } from './fs.js';

/**
 * Live kernel counters of the machine the agent runs on (`/proc/stat`, `/proc/net/dev`,
 * `/proc/uptime`), read as text; parsing is pure (health/proc-parse.ts).
 * Not under the host root: these describe this kernel, not a board identity a fixture mirrors.
 * Empty text when unreadable (non-Linux), never an error.
 */
export type ProcFile = 'stat' | 'net/dev' | 'uptime';

export async function readProc(file: ProcFile): Promise<string> {
  return (await readTextMaybe(`/proc/${file}`).catch(() => undefined)) ?? '';
}

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cleanEnv } from './cli.js';

/**
 * Run `node script args` in its own process group and SIGKILL it at a chosen moment, for the
 * crash tests. No hooks in the agent: the moment is a delay after something observable —
 * the start, a progress line on stderr matching `onLine` (the CLI prints its steps there),
 * or the appearance of its first child process (`child`: then only that child is killed and
 * the parent lives on), or the appearance of a file (`{file}`: e.g. the swap's journal, so a kill
 * lands inside the swap window by event, not by chance). `group` kills the whole process group:
 * the node parent and every child (ldconfig, dpkg-divert, the load-check node, the helper's
 * `plugin install`).
 */
export interface KillPlan {
  readonly delayMs: number;
  readonly after: 'start' | 'child' | RegExp | { readonly file: string };
  /** With `after: 'child'` or a file: kill the whole group rather than only the first child. */
  readonly group?: boolean;
}

export interface KillRun {
  readonly killed: boolean;
  readonly code: number | null;
  /** ms from the trigger to the exit (the span a later kill can be spread over). */
  readonly afterTriggerMs: number;
  readonly triggered: boolean;
}

/** Direct children of `pid` (Linux /proc/<pid>/task/<tid>/children). */
export function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .split(' ')
        .filter(Boolean)
        .map(Number),
    );
  } catch {
    return [];
  }
}

export function runAndKill(script: string, args: readonly string[], env: Record<string, string>, plan: KillPlan): Promise<KillRun> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [script, ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let killed = false;
    let triggeredAt = 0;
    const timers: NodeJS.Timeout[] = [];
    const killGroup = (): void => {
      try {
        process.kill(-(p.pid ?? 0), 'SIGKILL');
        killed = true;
      } catch {
        // already gone
      }
    };
    const trigger = (fn: () => void): void => {
      if (triggeredAt) return;
      triggeredAt = Date.now();
      // An infinite delay only measures (setTimeout would fire at once).
      if (Number.isFinite(plan.delayMs)) timers.push(setTimeout(fn, plan.delayMs));
    };
    let buf = '';
    p.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      if (plan.after instanceof RegExp && plan.after.test(buf)) trigger(killGroup);
    });
    if (plan.after === 'start') trigger(killGroup);
    if (plan.after === 'child') {
      const poll = setInterval(() => {
        const [child] = childrenOf(p.pid ?? 0);
        if (child === undefined) return;
        clearInterval(poll);
        trigger(() => {
          if (plan.group) return killGroup();
          try {
            process.kill(child, 'SIGKILL');
            killed = true;
          } catch {
            // it finished first
          }
        });
      }, 5);
      timers.push(poll);
    }
    const after = plan.after;
    if (typeof after === 'object' && !(after instanceof RegExp)) {
      const poll = setInterval(() => {
        if (!existsSync(after.file)) return;
        clearInterval(poll);
        trigger(() => {
          if (plan.group) return killGroup();
          const [child] = childrenOf(p.pid ?? 0);
          try {
            if (child !== undefined) {
              process.kill(child, 'SIGKILL');
              killed = true;
            }
          } catch {
            // it finished first
          }
        });
      }, 2);
      timers.push(poll);
    }
    p.on('close', (code) => {
      for (const x of timers) clearTimeout(x);
      // Nothing the group started may outlive the run (an orphaned ldconfig after a child kill).
      try {
        process.kill(-(p.pid ?? 0), 'SIGKILL');
      } catch {
        // group already gone
      }
      resolve({ killed, code, afterTriggerMs: triggeredAt ? Date.now() - triggeredAt : 0, triggered: triggeredAt > 0 });
    });
  });
}

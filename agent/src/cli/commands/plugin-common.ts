import { UsageError } from '../../core/errors.js';
import type { AgentEnv, CommandContext, OptionSpec } from '../types.js';

/** Step lines on stderr (not with --json: stdout stays one JSON document; stderr stays quiet). */
export function stepPrinter(ctx: CommandContext, prefix: string): (step: string) => void {
  return (step) => {
    if (!ctx.out.json) ctx.out.info(`${prefix}: ${step}`);
  };
}

/**
 * Build progress: on a TTY one updating percent line; otherwise plain log lines (each
 * percent change and every error/warning line) — docs/reference/design-rules.md "Cross-cutting rules", long work.
 */
export function progressPrinter(ctx: CommandContext, label = 'plugin build'): { onProgress: (percent: number | null, line: string) => void; done: () => void } {
  let last = -1;
  let drawn = false;
  return {
    onProgress: (percent, line) => {
      if (ctx.out.json) return;
      if (percent !== null && percent !== last) {
        last = percent;
        if (ctx.out.isTTY) {
          const width = 30;
          const filled = Math.round((percent / 100) * width);
          process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}% ${line.replace(/^\[\s*\d+%\]\s*/, '').slice(0, 60).padEnd(60)}`);
          drawn = true;
        } else {
          ctx.out.info(`${label}: ${String(percent).padStart(3)}% ${line.replace(/^\[\s*\d+%\]\s*/, '')}`);
        }
      } else if (/error|warning/i.test(line) && !ctx.out.isTTY) {
        ctx.out.info(`${label}: ${line}`);
      }
    },
    done: () => {
      if (drawn) process.stderr.write('\n');
    },
  };
}

export function optString(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.options[name];
  return typeof v === 'string' ? v : undefined;
}

export function optPositiveInt(ctx: CommandContext, name: string): number | undefined {
  const v = optString(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`--${name} must be a positive integer, got "${v}".`);
  return Number(v);
}

/** The compiler options `plugin build` and `runner build` share. */
export const BUILD_TOOL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  cmake: { type: 'string', arg: 'PATH', description: 'cmake to use (default plugin.cmakePath, then PATH).' },
  'cuda-compiler': { type: 'string', arg: 'PATH', description: 'nvcc whose toolkit to use (default plugin.cudaCompiler, then PATH, then /usr/local/cuda/bin/nvcc).' },
};

/** Tools, deadline, cancellation and progress of a build command: flags first, then the plugin config section. */
export function buildToolRequest(
  ctx: CommandContext,
  env: AgentEnv,
  onProgress: (percent: number | null, line: string) => void,
): { cmakePath: string; cudaCompiler: string; timeoutMs: number; signal: AbortSignal; onProgress: (percent: number | null, line: string) => void } {
  return {
    cmakePath: optString(ctx, 'cmake') ?? env.config.plugin.cmakePath,
    cudaCompiler: optString(ctx, 'cuda-compiler') ?? env.config.plugin.cudaCompiler,
    timeoutMs: env.config.plugin.buildTimeoutSec * 1000,
    signal: ctx.signal,
    onProgress,
  };
}

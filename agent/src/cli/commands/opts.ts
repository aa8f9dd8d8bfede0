import { UsageError } from '../../core/errors.js';
import type { CommandContext } from '../types.js';

/** Typed access to string options of a command. */
export function optString(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.options[name];
  return typeof v === 'string' ? v : undefined;
}

export function optInt(ctx: CommandContext, name: string, min = 0): number | undefined {
  const v = optString(ctx, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} "${v}" is not an integer ≥ ${min}.`);
  return Number(v);
}

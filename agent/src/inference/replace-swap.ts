import type { Servable } from '../core/contracts/model.js';
import { AgentError, toAgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { GoldenSet } from './golden.js';
import type { ModelRuntime } from './model-runtime.js';
import type { SwapHold } from './swap-hold.js';

/** What the swap needs from the inference service, which owns the state. */
export interface ReplaceSwapContext {
  readonly hold: SwapHold;
  readonly log: Logger;
  /** Stop routing requests to a model (null while the gap is open). */
  setActive(rt: ModelRuntime | null): void;
  /** Drain in-flight requests (up to inference.drainTimeoutMs) and unload. */
  retire(rt: ModelRuntime): Promise<void>;
  /** Load + warm-up + golden check of the engine already built for `servable`; unloads it on failure. */
  bringUp(warmupRuns: number, golden: GoldenSet | undefined): Promise<ModelRuntime>;
  /** Build, load and warm up `servable` from scratch (the model that served before). */
  reload(servable: Servable): Promise<ModelRuntime>;
}

const ref = (s: Servable): { name: string; version: string } => ({ name: s.model.name, version: s.model.version });

/**
 * `swapMode: replace` (one model in memory): requests arriving from here on wait in the hold
 * (swap-hold.ts) while the old model drains and is unloaded and the new one loads, warms up and
 * passes its golden check. Returns the new runtime, not yet serving: the caller switches it in
 * and ends the hold in one step. When the new model is refused (load, warm-up or golden check),
 * the old model is loaded again while the requests keep waiting, it serves them, and the
 * refusal is thrown with its code. Only when the old model does not come back either do the
 * held requests answer MODEL_NOT_READY.
 */
export async function replaceSwap(ctx: ReplaceSwapContext, old: ModelRuntime, servable: Servable, warmupRuns: number, golden: GoldenSet | undefined): Promise<ModelRuntime> {
  const from = `${old.name}@${old.version}`;
  const to = `${servable.model.name}@${servable.model.version}`;
  ctx.hold.begin(ref(old.servable), ref(servable));
  ctx.setActive(null);
  await ctx.retire(old);
  ctx.hold.phase('loading');
  try {
    return await ctx.bringUp(warmupRuns, golden);
  } catch (err) {
    const e = toAgentError(err);
    ctx.log.warn({ err: e.toJSON(), held: ctx.hold.status()?.held ?? 0 }, `activation of ${to} failed; reloading ${from} while requests wait`);
    ctx.hold.phase('reloading');
    try {
      ctx.setActive(await ctx.reload(old.servable));
      ctx.hold.end();
    } catch (again) {
      const a = toAgentError(again);
      ctx.log.error({ err: a.toJSON() }, `${from} did not load again; no model is serving`);
      ctx.setActive(null);
      ctx.hold.fail(
        new AgentError('MODEL_NOT_READY', `No model is serving: ${to} was refused (${e.code}) and ${from} did not load again (${a.code}: ${a.message}).`, {
          hint: 'Activate a model with `jetson-agent models activate NAME@VERSION`; the agent log has both failures.',
        }),
      );
    }
    throw e;
  }
}

import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { isErrorCode } from '../core/error-codes.js';
import { sleep, systemClock, type Clock } from '../platform/clock.js';
import { exists, mkdirp, readJsonMaybe, removePath, writeJsonAtomic } from '../platform/fs.js';
import { renamePath } from '../platform/fs-stream.js';
import type { PluginRequest, PluginResult } from './plugin-helper.js';

/**
 * The unprivileged agent's half of the plugin helper contract (docs/provisioning.md "Plugin
 * helper"): write `plugin/request.json` atomically, wait for the helper to take it (it renames
 * it away first), then wait for `result.json` with the same id, read it, delete it.
 * Two waits, because "nobody is listening" (helper units not installed, e.g. a dev machine)
 * must be told quickly and leave nothing behind, while a real swap may take minutes.
 */
export interface HelperCallOptions {
  readonly stateDir: string;
  readonly request: PluginRequest;
  /** How long request.json may sit untaken before the helper counts as not running. */
  readonly pickupTimeoutMs: number;
  /** How long to wait for result.json once the request was taken. */
  readonly resultTimeoutMs: number;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
}

const MANUAL = 'sudo jetson-agent plugin install --last-build';

export async function callPluginHelper(o: HelperCallOptions): Promise<PluginResult> {
  const clock = o.clock ?? systemClock;
  const poll = o.pollMs ?? 200;
  const dir = path.join(o.stateDir, 'plugin');
  const requestFile = path.join(dir, 'request.json');
  const resultFile = path.join(dir, 'result.json');
  await mkdirp(dir, 0o750);
  if (await exists(requestFile)) {
    throw new AgentError('BUSY', `Another plugin helper request is pending (${requestFile}).`, {
      hint: 'Wait for the helper to take it (systemctl status jetson-agent-plugin), or remove the stale file, then retry.',
    });
  }
  // Temp file in the same directory + rename: the path unit never sees a half-written request.
  await writeJsonAtomic(requestFile, o.request, { mode: 0o640 });

  // Withdraw by rename: if the helper takes it at this very moment our rename fails with
  // ENOENT and the helper goes ahead with it. True when the request was withdrawn.
  const withdraw = async (): Promise<boolean> => {
    const withdrawn = path.join(dir, `request.withdrawn-${o.request.id}.json`);
    const gone = await renamePath(requestFile, withdrawn).then(
      () => true,
      () => false,
    );
    if (gone) await removePath(withdrawn);
    return gone;
  };

  const pickupBy = clock.now() + o.pickupTimeoutMs;
  while (await exists(requestFile)) {
    if (clock.now() >= pickupBy) {
      // Not withdrawn: the helper took it just now, so go on waiting for its result.
      if (await withdraw()) {
        throw new AgentError(
          'PLUGIN_HELPER_NOT_RUNNING',
          `No plugin helper took the ${o.request.op} request within ${Math.round(o.pickupTimeoutMs / 1000)} s: the root helper units (jetson-agent-plugin.path/.service) are not installed or not running. The request was withdrawn; nothing was swapped.`,
          {
            hint: `Install and enable them (docs/provisioning.md: sudo systemctl enable --now jetson-agent-plugin.path) and retry, or run by hand as root: ${o.request.op === 'install' ? MANUAL : 'sudo jetson-agent plugin restore'}.`,
          },
        );
      }
      break;
    }
    try {
      await sleep(poll, o.signal, clock);
    } catch (err) {
      // Canceled (deadline, cancel, shutdown) before the helper took it: take the request back,
      // or the helper would install later with nobody waiting and the next call would be
      // refused as BUSY by our own stale file.
      if (await withdraw()) throw err;
      throw takenAnyway(err, o.request);
    }
  }

  const resultBy = clock.now() + o.resultTimeoutMs;
  for (;;) {
    // Another request's stale result (its caller gave up) is left for the helper to overwrite.
    const r = await readJsonMaybe<PluginResult>(resultFile).catch(() => undefined);
    if (r?.id === o.request.id) {
      await removePath(resultFile);
      return r;
    }
    if (clock.now() >= resultBy) {
      throw new AgentError('PLUGIN_HELPER_TIMEOUT', `The plugin helper took request ${o.request.id} but wrote no result within ${Math.round(o.resultTimeoutMs / 1000)} s.`, {
        hint: 'Check `systemctl status jetson-agent-plugin` and `journalctl -u jetson-agent-plugin`, then `jetson-agent plugin status`.',
      });
    }
    try {
      await sleep(poll, o.signal, clock);
    } catch (err) {
      throw takenAnyway(err, o.request);
    }
  }
}

/**
 * Canceled (deadline, cancel, shutdown) after the root helper took the request: it goes on and
 * may still swap the library, which the caller must not read as "nothing happened".
 */
function takenAnyway(err: unknown, request: PluginRequest): AgentError {
  const e = err instanceof AgentError ? err : undefined;
  return new AgentError(e?.code ?? 'CANCELED', `${e?.message ?? String(err)} The plugin helper had already taken request ${request.id}: the ${request.op} may still complete.`, {
    hint: 'Check what the board runs now with `jetson-agent plugin status` before retrying.',
    cause: err,
  });
}

/** A failed result as an AgentError: the install's own code when it printed one, else PLUGIN_HELPER_FAILED. */
export function helperFailure(r: PluginResult): AgentError {
  const out = r.output as { error?: { code?: unknown; message?: unknown; hint?: unknown } } | null;
  const inner = out?.error;
  if (inner && typeof inner.code === 'string' && isErrorCode(inner.code) && typeof inner.message === 'string') {
    return new AgentError(inner.code, `The root helper's \`plugin ${r.op ?? 'install'}\` failed: ${inner.message}`, {
      ...(typeof inner.hint === 'string' ? { hint: inner.hint } : {}),
    });
  }
  const code = r.error?.code ?? 'unknown';
  const tail = r.stderrTail.trim();
  return new AgentError('PLUGIN_HELPER_FAILED', `The root plugin helper failed request ${r.id ?? '?'}: ${code}: ${r.error?.message ?? 'no message'}${tail ? ` (stderr: ${tail})` : ''}`, {
    hint: 'See `journalctl -u jetson-agent-plugin`; the library was not changed unless `jetson-agent plugin status` says otherwise.',
  });
}

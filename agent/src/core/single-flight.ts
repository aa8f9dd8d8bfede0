import { AgentError } from './errors.js';

/**
 * One long operation at a time (builds, conversions, downloads, swaps).
 *
 * INVARIANTS
 * - at most one task runs; a second `run` while busy fails fast with BUSY (callers that
 *   want to queue use `runQueued`, which waits behind `run` tasks as well as queued ones);
 * - every task gets an AbortSignal that fires on cancel(), on its deadline, or when the
 *   caller's own signal aborts;
 * - the runner is free again only after the task's promise settles (no overlap even when
 *   a task ignores its signal).
 */
export interface TaskContext {
  readonly signal: AbortSignal;
  readonly name: string;
}

export interface RunOptions {
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
}

export class SingleFlight {
  private current: { name: string; controller: AbortController; free: Promise<void> } | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  get busy(): string | undefined {
    return this.current?.name;
  }

  async run<T>(name: string, task: (ctx: TaskContext) => Promise<T>, options: RunOptions = {}): Promise<T> {
    if (this.current) {
      throw new AgentError('BUSY', `Cannot start "${name}": "${this.current.name}" is still running.`, {
        hint: 'Wait for it to finish or cancel it, then retry.',
      });
    }
    const controller = new AbortController();
    const onOuter = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onOuter, { once: true });
    const timer =
      options.deadlineMs === undefined
        ? undefined
        : setTimeout(
            () =>
              controller.abort(
                new AgentError('TIMEOUT', `"${name}" ran past its deadline of ${options.deadlineMs} ms.`, {
                  hint: 'Raise the deadline in the configuration or find out why it is slow.',
                }),
              ),
            options.deadlineMs,
          );
    let setFree: () => void = () => undefined;
    const free = new Promise<void>((r) => (setFree = r));
    this.current = { name, controller, free };
    try {
      // Inside the try: a task that throws before returning its promise still clears the
      // deadline timer and the caller's abort listener.
      return await task({ signal: controller.signal, name });
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onOuter);
      this.current = undefined;
      setFree();
    }
  }

  /**
   * Wait for the runner to be free, then run. Queued tasks run in call order; a task started
   * with `run` (an inference restart, a plugin rebuild) is waited for too, and if another `run`
   * slips in between, the wait starts over.
   */
  runQueued<T>(name: string, task: (ctx: TaskContext) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const whenFree = async (): Promise<T> => {
      while (this.current) await this.current.free;
      return this.run(name, task, options);
    };
    const next = this.queue.then(whenFree, whenFree);
    this.queue = next.catch(() => undefined);
    return next;
  }

  cancel(reason = 'canceled'): boolean {
    if (!this.current) return false;
    this.current.controller.abort(new AgentError('CANCELED', `"${this.current.name}" was ${reason}.`));
    return true;
  }
}

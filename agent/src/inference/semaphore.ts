import { AgentError } from '../core/errors.js';

/** At most `limit` holders; up to `maxWaiting` callers wait in FIFO order, more get OVERLOADED. */
export class Semaphore {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly maxWaiting: number,
  ) {}

  acquire(): Promise<void> {
    if (this.held < this.limit) {
      this.held++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxWaiting) {
      return Promise.reject(new AgentError('OVERLOADED', `${this.maxWaiting} low-priority requests are already waiting.`, { hint: 'Send fewer evaluation requests at once.' }));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held--;
  }
}

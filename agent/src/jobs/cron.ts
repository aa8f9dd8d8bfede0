import { schedule, validate } from 'node-cron';
import { AgentError } from '../core/errors.js';

/** The only node-cron import (docs/reference/design-rules.md "Layout and imports"). A job never overlaps itself. */
export interface CronJob {
  stop(): void;
}

export function scheduleCron(expression: string, fn: () => Promise<void>): CronJob {
  if (!validate(expression)) {
    throw new AgentError('CONFIG_INVALID', `Invalid cron expression "${expression}".`, { hint: 'Use five fields, e.g. "*/30 * * * *".' });
  }
  const task = schedule(expression, fn, { noOverlap: true });
  return { stop: () => void task.stop() };
}

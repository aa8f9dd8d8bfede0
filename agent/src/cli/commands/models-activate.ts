import { UsageError } from '../../core/errors.js';
import type { CommandSpec } from '../types.js';
import { daemonCall } from './daemon-client.js';

/**
 * `jetson-agent models activate NAME@VERSION`: asks the running daemon's inference endpoint
 * (POST /v1/admin/models/activate on inference.host:port) to hot-swap to that model.
 */
export const modelsActivateCommand: CommandSpec = {
  path: ['models', 'activate'],
  summary: 'Hot-swap the running daemon to NAME@VERSION (load, warm up, golden check, switch, drain).',
  description:
    'Talks to the daemon over its local HTTP endpoint. On a failed warm-up or golden check the previous model keeps serving and the command exits 1 with the error code.',
  positionals: [{ name: 'NAME@VERSION', required: true, description: 'Model to activate.' }],
  options: { 'warmup-runs': { type: 'string', arg: 'N', description: 'Warm-up runs before the switch (default: inference.warmupRuns).' } },
  examples: ['jetson-agent models activate demo-yolov3@generated-1', 'jetson-agent models activate peoplenet@2.3 --json'],
  async run(ctx) {
    const ref = ctx.positionals[0] ?? '';
    const m = /^([a-z0-9._-]+)@([A-Za-z0-9._+-]+)$/.exec(ref);
    if (!m) throw new UsageError(`Expected NAME@VERSION, got "${ref}".`);
    const wr = ctx.options['warmup-runs'];
    const warmupRuns = typeof wr === 'string' ? Number(wr) : undefined;
    if (warmupRuns !== undefined && (!Number.isInteger(warmupRuns) || warmupRuns < 0)) throw new UsageError('--warmup-runs must be a non-negative integer.');
    const env = await ctx.agent();
    const body = await daemonCall<{ active?: { name: string; version: string }; previous?: { name: string; version: string } | null }>(env, '/v1/admin/models/activate', {
      method: 'POST',
      body: { name: m[1], version: m[2], ...(warmupRuns !== undefined ? { warmupRuns } : {}) },
      signal: ctx.signal,
    });
    ctx.out.result(body);
    ctx.out.print(`active: ${body.active?.name}@${body.active?.version}${body.previous ? ` (previous: ${body.previous.name}@${body.previous.version})` : ''}`);
  },
};

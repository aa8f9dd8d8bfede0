import { randomBytes } from 'node:crypto';
import { AgentError, UsageError } from '../../core/errors.js';
import { assertTopicLevel, REQUEST_OPS } from '../../core/contracts/topics.js';
import { parseDuration } from '../../fleet/duration.js';
import { formatResponse, parseOp, parseParams, requestBody, responseError, timeoutError } from '../../fleet/request.js';
import { exchangeRequest } from '../../fleet/request-client.js';
import type { CommandSpec } from '../types.js';
import { BROKER_OPTIONS, brokerFrom, signingKeyFrom } from './fleet-broker.js';
import { optString } from './opts.js';

export const fleetRequestCommand: CommandSpec = {
  path: ['request'],
  summary: `Send one request op to a device and print its response (ops: ${REQUEST_OPS.join(', ')}).`,
  description:
    'Publishes on {p}/devices/ID/request/OP with a fresh transaction and waits for the response with that transaction on …/response/OP. ' +
    'Every op except ping is signed with the fleet key (--key), naming the op and the device and expiring within a minute (the device must receive it by then), so it cannot be replayed on another op, elsewhere or later, and the device runs it at most once; ' +
    'ping is sent in clear without --key. On a timeout the error says whether the device is offline, online or unknown (its retained status). Op arguments: --param KEY=VALUE.',
  options: {
    ...BROKER_OPTIONS,
    key: { type: 'string', arg: 'PRIVATE', description: 'Fleet signing key (required for every op but ping).' },
    timeout: { type: 'string', arg: 'DUR', description: 'How long to wait for the response (default 30s).' },
    param: { type: 'string', arg: 'KEY=VALUE', multiple: true, description: 'An op argument; VALUE is read as JSON when it parses (true, 3, {"a":1}), else as text. Repeatable.' },
  },
  positionals: [
    { name: 'ID', required: true, description: 'Device id.' },
    { name: 'OP', required: true, description: REQUEST_OPS.join(' | ') },
  ],
  examples: [
    'jetson-fleet request jetson-0042 ping --broker mqtts://broker:8883',
    'jetson-fleet request jetson-0042 get-config --key fleet.key --json $B',
    'jetson-fleet request jetson-0042 rollback --key fleet.key --timeout 2m $B',
  ],
  async run(ctx) {
    const [deviceId, opText] = ctx.positionals;
    if (!deviceId || !opText) throw new UsageError('request needs a device id and an op.', `Example: jetson-fleet request jetson-0042 ping (ops: ${REQUEST_OPS.join(', ')})`);
    try {
      assertTopicLevel('device id', deviceId);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const op = parseOp(opText);
    const timeoutMs = parseDuration(optString(ctx, 'timeout') ?? '30s', '--timeout');
    if (timeoutMs <= 0) throw new UsageError('--timeout must be longer than 0s.');
    const rawParams = ctx.options.param;
    const params = parseParams(Array.isArray(rawParams) ? rawParams.filter((p): p is string => typeof p === 'string') : []);
    const key = optString(ctx, 'key') !== undefined ? await signingKeyFrom(ctx) : undefined;
    const transaction = `${op}-${randomBytes(6).toString('hex')}`;
    // Built (and signed) before connecting: a missing key fails without touching the broker.
    const body = requestBody({ op, deviceId, transaction, params, now: Date.now(), timeoutMs, key });
    const broker = await brokerFrom(ctx);
    const out = await exchangeRequest({ connect: broker.connect, prefix: broker.prefix, deviceId, op, transaction, body, timeoutMs, signal: ctx.signal });
    if (!out.response) {
      if (ctx.signal.aborted) throw new AgentError('CANCELED', `Stopped waiting for ${deviceId} to answer ${op}.`, { hint: 'The request was sent; the device may still run it.' });
      throw timeoutError(deviceId, op, timeoutMs, out.status, broker.prefix);
    }
    const err = responseError(deviceId, op, out.response);
    if (err) throw err;
    ctx.out.result({ deviceId, op, transaction, status: 'ok', elapsedMs: out.elapsedMs, data: out.response.data ?? null });
    ctx.out.print(formatResponse(deviceId, op, out.response, out.elapsedMs));
  },
};

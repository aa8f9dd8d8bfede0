import type { KeyObject } from 'node:crypto';
import { AgentError, UsageError } from '../../core/errors.js';
import { DEFAULT_WAVES, parseWaves } from '../../fleet/waves.js';
import { FleetSession } from '../../fleet/fleet-session.js';
import { fromManifestRequires } from '../../fleet/manifest.js';
import { verifyManifest } from '../../fleet/manifest-sign.js';
import { planRollout } from '../../fleet/plan.js';
import { formatPlan } from '../../fleet/plan-format.js';
import { parsePolicy } from '../../fleet/policy.js';
import { initialProgress } from '../../fleet/reducer.js';
import { formatRolloutList, formatStatus, progressLine, rolloutListRows } from '../../fleet/rollout-format.js';
import { formatErrorGroups } from '../../fleet/error-summary.js';
import { ROLLOUT_RECORD_VERSION, type RolloutRecord } from '../../fleet/rollout-record.js';
import { HEARTBEAT_MS, operatorRollback, persist, runRollout } from '../../fleet/runner.js';
import { parseTargetSelector } from '../../fleet/targets.js';
import { parseDuration } from '../../fleet/duration.js';
import { readDesired } from '../../fleet/desired.js';
import { confirmRollback } from '../../fleet/rollback-watch.js';
import { formatRollback, rollbackCounts } from '../../fleet/rollback-report.js';
import { keyIdOf } from '../../fleet/key-id.js';
import type { SignedEnvelope } from '../../core/contracts/topics.js';
import { fsError, readText } from '../../platform/fs.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { BROKER_OPTIONS, brokerFrom, signingKeyFrom } from './fleet-broker.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const KEY_OPTION = { key: { type: 'string' as const, arg: 'PRIVATE', description: 'Fleet signing key (manifest check, signed rollback requests).' } };

async function drive(ctx: CommandContext, session: FleetSession, rec: RolloutRecord, key: KeyObject): Promise<number> {
  let lastLine = '';
  const tty = ctx.out.isTTY && !ctx.out.json;
  const final = await runRollout(session, rec, {
    key,
    signal: ctx.signal,
    onStep: (_step, r) => {
      const line = progressLine(r, Date.now());
      const key2 = line.replace(/ \| [^|]*$/, '');
      if (tty) process.stderr.write(`\r\x1b[K${line}`);
      else if (key2 !== lastLine && !ctx.out.json) ctx.out.info(line);
      lastLine = key2;
    },
  });
  if (tty) process.stderr.write('\n');
  const result = { deploymentId: final.deploymentId, phase: final.progress.phase, decision: final.decision, counts: final.counts, errors: final.errors ?? [], abort: final.progress.abort ?? null, rolledBack: final.rolledBack };
  ctx.out.print(formatStatus(final, Date.now()));
  if (ctx.signal.aborted && final.progress.phase === 'running') {
    ctx.out.result(result);
    ctx.out.info(`Stopped; the rollout stays running in its retained record. Continue with: jetson-fleet rollout resume ${final.deploymentId}`);
    return 130;
  }
  if (final.progress.phase === 'aborted') {
    const errors = final.errors ?? [];
    const worst = errors.length ? `; worst errors: ${formatErrorGroups(errors).join('; ')}` : '';
    return ctx.out.fail(
      result,
      new AgentError('FLEET_ROLLOUT_ABORTED', `Rollout ${final.deploymentId} aborted: ${final.progress.abort?.message ?? final.decision}${worst}.`, {
        hint: `Inspect with \`jetson-fleet rollout status ${final.deploymentId}\` and \`jetson-fleet devices\`; the current wave was rolled back.`,
        details: { counts: final.counts, errors },
      }),
    );
  }
  ctx.out.result(result);
  return 0;
}

function loadRecord(session: FleetSession, id: string): RolloutRecord {
  const rec = session.rollouts.get(id);
  if (!rec) {
    throw new AgentError('FLEET_ROLLOUT_NOT_FOUND', `No retained rollout "${id}" under ${session.prefix}/rollouts/ on this broker.`, {
      hint: 'Check the id (jetson-fleet rollout status --json lists none without it), the broker and mqtt.topicPrefix.',
    });
  }
  return rec;
}

function positionalId(ctx: CommandContext): string {
  const id = ctx.positionals[0];
  if (!id) throw new UsageError('Missing the rollout (deployment) id.');
  return id;
}

export const fleetRolloutStartCommand: CommandSpec = {
  path: ['rollout', 'start'],
  summary: 'Run a staged rollout over MQTT: resolve targets from retained status/health, publish desired wave by wave, gate, abort and roll back on failures.',
  description:
    'Targets come from the devices\' retained status and health. --dry-run prints the waves and the skipped devices with reasons and publishes nothing. ' +
    'Progress is retained under {p}/rollouts/{id}, so `rollout status` works from any machine and `rollout resume` continues after a controller crash. ' +
    'Semantics of waves, thresholds, gates and deadlines: docs/rollouts.md.',
  options: {
    ...BROKER_OPTIONS,
    ...KEY_OPTION,
    manifest: { type: 'string', arg: 'M.json', description: 'Signed manifest (manifest create).' },
    target: { type: 'string', arg: 'SEL', description: 'all | group:NAME | devices:ID,ID,…' },
    waves: { type: 'string', arg: 'LIST', description: `Cumulative wave sizes (default ${DEFAULT_WAVES}).` },
    'max-failures': { type: 'string', arg: 'N|P%', description: 'Abort when more devices than this fail (default 10%).' },
    'min-sample': { type: 'string', arg: 'N', description: 'Devices with an outcome before a percentage can trip (default 10).' },
    'health-gate': { type: 'string', arg: 'DUR', description: 'Active and healthy this long to count as success (default 5m).' },
    'wave-timeout': { type: 'string', arg: 'DUR', description: 'Per-wave deadline after the last notification (default 30m).' },
    rate: { type: 'string', arg: 'N/min', description: 'Pace desired-state publications.' },
    'dry-run': { type: 'boolean', description: 'Print the plan from the live fleet; publish nothing.' },
  },
  examples: [
    'jetson-fleet rollout start --manifest m.json --key keys/fleet.key --target group:lab --dry-run --broker mqtts://broker:8883',
    'jetson-fleet rollout start --manifest m.json --key keys/fleet.key --target all --waves 1,10%,50%,100% --max-failures 5% --health-gate 5m',
  ],
  async run(ctx) {
    const mfile = str(ctx.options.manifest);
    const targetText = str(ctx.options.target);
    if (!mfile || !targetText) throw new UsageError('rollout start needs --manifest and --target.', 'Example: jetson-fleet rollout start --manifest m.json --key fleet.key --target group:lab --dry-run');
    const selector = parseTargetSelector(targetText);
    const wavesSpec = str(ctx.options.waves) ?? DEFAULT_WAVES;
    const waves = parseWaves(wavesSpec);
    const policy = parsePolicy({
      ...(str(ctx.options['max-failures']) !== undefined ? { maxFailures: str(ctx.options['max-failures']) } : {}),
      ...(str(ctx.options['min-sample']) !== undefined ? { minSample: str(ctx.options['min-sample']) } : {}),
      ...(str(ctx.options['health-gate']) !== undefined ? { healthGate: str(ctx.options['health-gate']) } : {}),
      ...(str(ctx.options['wave-timeout']) !== undefined ? { waveTimeout: str(ctx.options['wave-timeout']) } : {}),
      ...(str(ctx.options.rate) !== undefined ? { rate: str(ctx.options.rate) } : {}),
    });
    const key = await signingKeyFrom(ctx);
    let text: string;
    try {
      text = await readText(mfile);
    } catch (err) {
      throw fsError('read', mfile, err);
    }
    // Checked with our own public key, exactly as devices will: a bad file fails here, not on 1,000 boards.
    const manifest = verifyManifest(text, [{ keyId: keyIdOf(key), publicKey: key.export({ format: 'jwk' }).x ?? '' }]);
    if (Date.parse(manifest.expiresAt) <= Date.now()) {
      throw new AgentError('MANIFEST_EXPIRED', `Manifest ${manifest.deploymentId} expired at ${manifest.expiresAt}.`, { hint: 'Make a new one with `jetson-fleet manifest create`.' });
    }
    const broker = await brokerFrom(ctx);
    const session = await FleetSession.open(broker.connect, broker.prefix, { devices: true, rollout: manifest.deploymentId });
    try {
      const devices = session.view.records();
      const planned = planRollout({ deploymentId: manifest.deploymentId, selector, devices, requires: fromManifestRequires(manifest.requires), waves, policy });
      const { targets, plan } = planned;
      if (targets.online.length + targets.offline.length === 0) {
        throw new AgentError('FLEET_NO_TARGETS', `--target ${targetText} matched no compatible device among ${devices.length} known.`, {
          hint: 'Check the target, the broker/topic prefix, and the manifest requires against `jetson-fleet devices`.',
          details: { skipped: targets.skipped },
        });
      }
      if (ctx.options['dry-run'] === true) {
        ctx.out.result({ deploymentId: plan.deploymentId, dryRun: true, waves: plan.waves, pending: targets.offline, skipped: targets.skipped, minDurationMs: planned.minDurationMs });
        ctx.out.print(formatPlan(planned, { wavesSpec, devices }));
        return 0;
      }
      if (session.rollouts.has(manifest.deploymentId)) {
        throw new AgentError('FLEET_ROLLOUT_EXISTS', `Rollout ${manifest.deploymentId} already exists on this broker (${session.rollouts.get(manifest.deploymentId)?.progress.phase ?? '?'}).`, {
          hint: `Continue it with \`jetson-fleet rollout resume ${manifest.deploymentId}\`, or make a new manifest (new deployment id).`,
        });
      }
      const now = Date.now();
      const rec: RolloutRecord = {
        v: ROLLOUT_RECORD_VERSION, deploymentId: plan.deploymentId, target: targetText, createdAt: new Date(now).toISOString(), updatedAt: new Date(now).toISOString(),
        envelope: JSON.parse(text) as SignedEnvelope, plan, progress: initialProgress(now), skipped: targets.skipped,
        previous: { envelopes: {}, byDevice: {} }, rolledBack: [], counts: null, decision: 'starting', writer: { clientId: session.clientId, heartbeatAt: new Date(now).toISOString() },
      };
      await persist(session, rec, now);
      return await drive(ctx, session, rec, key);
    } finally {
      await session.close();
    }
  },
};

export const fleetRolloutResumeCommand: CommandSpec = {
  path: ['rollout', 'resume'],
  summary: 'Continue a running rollout from its retained record (after a controller crash or Ctrl-C), from any machine.',
  options: { ...BROKER_OPTIONS, ...KEY_OPTION, force: { type: 'boolean', description: 'Take over even if another controller sent a heartbeat recently.' } },
  positionals: [{ name: 'ID', required: true, description: 'Deployment id.' }],
  async run(ctx) {
    const id = positionalId(ctx);
    const key = await signingKeyFrom(ctx);
    const broker = await brokerFrom(ctx);
    const session = await FleetSession.open(broker.connect, broker.prefix, { devices: true, rollout: id });
    try {
      const rec = loadRecord(session, id);
      if (rec.progress.phase !== 'running') {
        ctx.out.result({ deploymentId: id, phase: rec.progress.phase, decision: rec.decision, counts: rec.counts });
        ctx.out.print(formatStatus(rec, Date.now()));
        return rec.progress.phase === 'done' ? 0 : 1;
      }
      const age = Date.now() - Date.parse(rec.writer.heartbeatAt);
      if (age < 3 * HEARTBEAT_MS && ctx.options.force !== true) {
        throw new AgentError('FLEET_ROLLOUT_BUSY', `Rollout ${id} had a controller heartbeat ${Math.round(age / 1000)}s ago (${rec.writer.clientId}).`, {
          hint: `Two controllers must not drive one rollout. Wait ${Math.ceil((3 * HEARTBEAT_MS - age) / 1000)}s, or pass --force if that controller is dead.`,
        });
      }
      return await drive(ctx, session, rec, key);
    } finally {
      await session.close();
    }
  },
};

export const fleetRolloutStatusCommand: CommandSpec = {
  path: ['rollout', 'status'],
  summary: 'Show a rollout from its retained record (any machine); --watch follows it until it ends.',
  options: { ...BROKER_OPTIONS, watch: { type: 'boolean', description: 'Print every change until the rollout is done or aborted.' } },
  positionals: [{ name: 'ID', required: true, description: 'Deployment id.' }],
  async run(ctx) {
    const id = positionalId(ctx);
    const broker = await brokerFrom(ctx);
    const session = await FleetSession.open(broker.connect, broker.prefix, { devices: false, rollout: id });
    try {
      let rec = loadRecord(session, id);
      if (ctx.options.watch === true) {
        let last = '';
        while (rec.progress.phase === 'running' && !ctx.signal.aborted) {
          const line = progressLine(rec, Date.now());
          if (line.replace(/ \| [^|]*$/, '') !== last) ctx.out.info(line);
          last = line.replace(/ \| [^|]*$/, '');
          await session.nextChange(HEARTBEAT_MS, ctx.signal);
          rec = session.rollouts.get(id) ?? rec;
        }
      }
      ctx.out.result(rec);
      ctx.out.print(formatStatus(rec, Date.now()));
      return rec.progress.phase === 'aborted' ? 1 : 0;
    } finally {
      await session.close();
    }
  },
};

export const fleetRolloutListCommand: CommandSpec = {
  path: ['rollout', 'list'],
  summary: 'List the rollouts retained on the broker: phase, wave, outcome counts, worst error, and whether a running one has lost its controller.',
  options: { ...BROKER_OPTIONS, phase: { type: 'string', arg: 'PHASE', description: 'Only rollouts in this phase: running, done or aborted.' } },
  examples: ['jetson-fleet rollout list --config fleet.yaml', 'jetson-fleet rollout list --phase running --json $B'],
  async run(ctx) {
    const phase = str(ctx.options.phase);
    if (phase !== undefined && !['running', 'done', 'aborted'].includes(phase)) throw new UsageError(`--phase must be running, done or aborted, not "${phase}".`);
    const broker = await brokerFrom(ctx);
    const session = await FleetSession.open(broker.connect, broker.prefix, { devices: false, rollout: '+' });
    try {
      const rows = rolloutListRows([...session.rollouts.values()], Date.now()).filter((r) => phase === undefined || r.phase === phase);
      ctx.out.result({ rollouts: rows });
      ctx.out.print(formatRolloutList(rows));
      return 0;
    } finally {
      await session.close();
    }
  },
};

/**
 * Body of `rollout abort` (scope `wave`) and `rollout rollback` (scope `all`): one record
 * write and rollback path (runner.ts operatorRollback), two reports. Both wait for each
 * online device's answer and print what it serves afterwards (fleet/rollback-report.ts): a
 * rollback is reported done only where a device said it no longer serves the deployment's
 * model.
 */
async function stopRollout(ctx: CommandContext, scope: 'wave' | 'all'): Promise<number> {
  const id = positionalId(ctx);
  const timeoutMs = parseDuration(str(ctx.options.timeout) ?? '2m', '--timeout');
  const key = await signingKeyFrom(ctx);
  const broker = await brokerFrom(ctx);
  const session = await FleetSession.open(broker.connect, broker.prefix, { devices: true, rollout: id });
  try {
    const rec = loadRecord(session, id);
    if (scope === 'wave' && rec.progress.phase !== 'running') {
      throw new UsageError(`Rollout ${id} is already ${rec.progress.phase}.`, `Use \`jetson-fleet rollout rollback ${id}\` to return every touched device to its previous desired state.`);
    }
    const message = scope === 'wave' ? (str(ctx.options.reason) ?? 'aborted by operator') : 'rolled back by operator';
    const model = readDesired(JSON.stringify(rec.envelope))?.model ?? null;
    const { record: out, devices } = await confirmRollback(session, () => operatorRollback(session, rec, key, { scope, message }, Date.now()), {
      deployment: { id, model },
      timeoutMs,
      signal: ctx.signal,
    });
    const what = scope === 'wave' ? `aborted ${id}; rolled back wave ${out.progress.wave + 1}` : `rolled back ${id}`;
    ctx.out.print([`${what} on ${devices.length} device(s): ${rollbackCounts(devices)}`, ...formatRollback(devices)].join('\n'));
    const result = { deploymentId: id, phase: out.progress.phase, rolledBack: out.rolledBack, devices };
    const bad = devices.filter((d) => !d.ok);
    if (bad.length === 0) {
      ctx.out.result(result);
      return 0;
    }
    return ctx.out.fail(
      result,
      new AgentError('FLEET_ROLLBACK_INCOMPLETE', `The rollback of ${id} is not done on ${bad.length} of ${devices.length} device(s): ${bad.slice(0, 5).map((d) => `${d.id} ${d.message}`).join('; ')}${bad.length > 5 ? '; …' : ''}.`, {
        hint: 'Inspect those devices with `jetson-fleet device ID`; run the rollback again, or `jetson-fleet request ID rollback --key …` for one device.',
        details: { devices: bad },
      }),
    );
  } finally {
    await session.close();
  }
}

const STOP_OPTIONS = {
  ...BROKER_OPTIONS,
  ...KEY_OPTION,
  timeout: { type: 'string' as const, arg: 'DUR', description: "How long to wait for the online devices' answers (default 2m: a device may have to load its previous model again)." },
};

export const fleetRolloutAbortCommand: CommandSpec = {
  path: ['rollout', 'abort'],
  summary: 'Stop a rollout and roll back the notified devices of its current wave (as an automatic abort does).',
  options: { ...STOP_OPTIONS, reason: { type: 'string', arg: 'TEXT', description: 'Recorded with the abort.' } },
  positionals: [{ name: 'ID', required: true, description: 'Deployment id.' }],
  run: (ctx) => stopRollout(ctx, 'wave'),
};

export const fleetRolloutRollbackCommand: CommandSpec = {
  path: ['rollout', 'rollback'],
  summary: 'Re-publish the previous desired state to every device the rollout touched, send each a signed rollback request, and report what each device serves afterwards.',
  options: STOP_OPTIONS,
  positionals: [{ name: 'ID', required: true, description: 'Deployment id.' }],
  run: (ctx) => stopRollout(ctx, 'all'),
};

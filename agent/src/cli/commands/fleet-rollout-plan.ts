import { AgentError, UsageError } from '../../core/errors.js';
import { parseDevicesFile } from '../../fleet/devices-file.js';
import { planRollout } from '../../fleet/plan.js';
import { formatPlan } from '../../fleet/plan-format.js';
import { parsePolicy } from '../../fleet/policy.js';
import { parseRequires } from '../../fleet/requirements.js';
import { parseTargetSelector } from '../../fleet/targets.js';
import { DEFAULT_WAVES, parseWaves } from '../../fleet/waves.js';
import { fsError, readText } from '../../platform/fs.js';
import type { CommandSpec } from '../types.js';

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export const fleetRolloutPlanCommand: CommandSpec = {
  path: ['rollout', 'plan'],
  summary: 'Dry run over a JSON file of device records: print the waves and which devices are skipped or pending, and why.',
  description:
    'Resolves --target against the device records, skips devices that do not meet --requires (with the reason), lists offline devices as pending ' +
    '(they get the retained desired state and catch up later), and splits the compatible devices into --waves (online devices first). ' +
    'Wave, threshold and gate semantics are in docs/rollouts.md ("Operator runbook"). Nothing is published.',
  options: {
    'devices-file': { type: 'string', arg: 'FILE', description: 'JSON array (or {"devices": [...]}) of device records.' },
    target: { type: 'string', arg: 'SEL', description: 'all | group:NAME | devices:ID,ID,…' },
    requires: { type: 'string', multiple: true, arg: 'KEY=VALUE', description: 'soc=…, cudaArch=…, tensorrt=RANGE, jetpack=RANGE, minFreeDisk=SIZE, plugins=NAME,….' },
    waves: { type: 'string', arg: 'LIST', description: `Cumulative wave sizes (default ${DEFAULT_WAVES}).` },
    'max-failures': { type: 'string', arg: 'N|P%', description: 'Abort when more devices than this fail (default 10%).' },
    'min-sample': { type: 'string', arg: 'N', description: 'Devices with an outcome before a percentage can trip (default 10).' },
    'health-gate': { type: 'string', arg: 'DUR', description: 'Active and healthy this long to count as success (default 5m).' },
    'wave-timeout': { type: 'string', arg: 'DUR', description: 'Per-wave deadline after the last notification (default 30m).' },
    rate: { type: 'string', arg: 'N/min', description: 'Pace desired-state publications (default: whole wave at once).' },
    'deployment-id': { type: 'string', arg: 'ID', description: 'Name shown in the plan (default "dry-run").' },
  },
  examples: [
    'jetson-fleet rollout plan --devices-file devices.json --target group:lab --requires cudaArch=72,87 --requires tensorrt=">=8.5 <9"',
    'jetson-fleet rollout plan --devices-file devices.json --target all --waves 2,25%,100% --rate 60/min --json',
  ],
  async run(ctx) {
    const file = str(ctx.options['devices-file']);
    if (!file) throw new UsageError('Missing --devices-file FILE.', 'The live form (targets from retained MQTT status) comes with `rollout start --dry-run`.');
    const targetText = str(ctx.options.target);
    if (!targetText) throw new UsageError('Missing --target.', 'Use --target all, --target group:NAME or --target devices:ID,ID,…');
    const selector = parseTargetSelector(targetText);
    const wavesSpec = str(ctx.options.waves) ?? DEFAULT_WAVES;
    const waves = parseWaves(wavesSpec);
    const requiresItems = ctx.options.requires;
    const requires = parseRequires(Array.isArray(requiresItems) ? requiresItems.filter((x): x is string => typeof x === 'string') : []);
    const policy = parsePolicy({
      ...(str(ctx.options['max-failures']) !== undefined ? { maxFailures: str(ctx.options['max-failures']) } : {}),
      ...(str(ctx.options['min-sample']) !== undefined ? { minSample: str(ctx.options['min-sample']) } : {}),
      ...(str(ctx.options['health-gate']) !== undefined ? { healthGate: str(ctx.options['health-gate']) } : {}),
      ...(str(ctx.options['wave-timeout']) !== undefined ? { waveTimeout: str(ctx.options['wave-timeout']) } : {}),
      ...(str(ctx.options.rate) !== undefined ? { rate: str(ctx.options.rate) } : {}),
    });
    let text: string;
    try {
      text = await readText(file);
    } catch (err) {
      throw fsError('read', file, err);
    }
    const devices = parseDevicesFile(text, file);
    const deploymentId = str(ctx.options['deployment-id']) ?? 'dry-run';
    const planned = planRollout({ deploymentId, selector, devices, requires, waves, policy });
    const { targets, plan } = planned;
    if (targets.online.length + targets.offline.length === 0) {
      const why = targets.skipped.map((s) => `${s.id} (${s.reason}: ${s.details.join('; ')})`);
      throw new AgentError('FLEET_NO_TARGETS', `--target ${targetText} matched no compatible device${why.length ? `; skipped: ${why.slice(0, 5).join(', ')}${why.length > 5 ? ', …' : ''}` : ''}.`, {
        hint: 'Check the target (group names, device ids) and the --requires values against the device records.',
        details: { skipped: targets.skipped },
      });
    }
    const offline = new Set(targets.offline);
    ctx.out.result({
      deploymentId,
      target: targetText,
      requires,
      policy: { ...plan.policy, waves: wavesSpec },
      waves: plan.waves.map((w, i) => ({ wave: i + 1, devices: w, online: w.filter((id) => !offline.has(id)), pending: w.filter((id) => offline.has(id)) })),
      pending: targets.offline,
      skipped: targets.skipped,
      minDurationMs: planned.minDurationMs,
    });
    ctx.out.print(formatPlan(planned, { wavesSpec, devices }));
  },
};

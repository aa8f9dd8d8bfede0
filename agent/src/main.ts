#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runProgram, type ProgramSpec } from './cli/program.js';

/**
 * Each binary loads only its own command table (and through it its features): the daemon
 * does not carry the fleet controller's modules (idle footprint, docs/benchmarks.md).
 */
export const PROGRAMS: Readonly<Record<'jetson-agent' | 'jetson-fleet', () => Promise<ProgramSpec>>> = {
  'jetson-agent': async () => ({
    name: 'jetson-agent',
    tagline: 'On-board agent: board detection, TensorRT OSS plugin, model conversion, inference endpoint, MQTT health and rollouts.',
    commands: (await import('./cli/agent-commands.js')).agentCommands,
  }),
  'jetson-fleet': async () => ({
    name: 'jetson-fleet',
    tagline: 'Fleet controller: packages, signed manifests, staged rollouts, fleet view.',
    commands: (await import('./cli/fleet-commands.js')).fleetCommands,
  }),
};

/** Process entry: the only function that ends the process (docs/reference/design-rules.md "Layout and imports"). */
export async function main(program: keyof typeof PROGRAMS, argv = process.argv.slice(2)): Promise<never> {
  let code: number;
  try {
    code = await runProgram(await PROGRAMS[program](), argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
  } catch (err) {
    process.stderr.write(`${program}: INTERNAL: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    code = 1;
  }
  // Let stdout drain before exiting (piped output is asynchronous).
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

function isEntry(): boolean {
  const invoked = process.argv[1];
  if (!invoked) return false;
  try {
    return realpathSync(invoked) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) await main('jetson-agent');

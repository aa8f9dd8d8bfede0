import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Not imported from cli.ts: cli.ts imports this module.
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN_JS = path.join(REPO_ROOT, 'agent', 'dist', 'main.js');

/**
 * Which JavaScript runtime the agent processes of a test run on. Node by default (unit tests
 * and most integration tests run in tap's Node and start the agent with it); the Bun subset
 * (test/integration/bun/) runs the same test files with `useRuntime('bun')`, which starts
 * every agent process through bin/jetson-agent with JETSON_AGENT_RUNTIME=bun: the command
 * line of the systemd unit on a JetPack 4 board. `TEST_AGENT_RUNTIME=bun npx tap FILE` does the
 * same for any test file by hand.
 */
export type TestRuntimeName = 'node' | 'bun';

let selected: TestRuntimeName = process.env.TEST_AGENT_RUNTIME === 'bun' ? 'bun' : 'node';

export function useRuntime(name: TestRuntimeName): void {
  selected = name;
}

export function testRuntime(): TestRuntimeName {
  return selected;
}

const BUN_PACKAGE = `@oven/bun-linux-${process.arch === 'arm64' ? 'aarch64' : 'x64'}`;

/** The Bun the lockfile pins for this machine (an optional dependency), or null when npm skipped it. */
export function bunExecutable(): string | null {
  const exe = path.join(REPO_ROOT, 'node_modules', BUN_PACKAGE, 'bin', 'bun');
  return existsSync(exe) ? exe : null;
}

/** The exact Bun version package.json pins (both @oven packages carry the same one). */
export function pinnedBunVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { optionalDependencies?: Record<string, string> };
  return pkg.optionalDependencies?.[BUN_PACKAGE] ?? 'not pinned';
}

export interface AgentCommand {
  readonly file: string;
  /** Arguments before the agent's own (the script for Node; none for the launcher). */
  readonly prefix: readonly string[];
  /** Variables to add to the child's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Variables to remove (tap's loader in NODE_OPTIONS is for Node children only). */
  readonly unset: readonly string[];
}

/** How to start `script` (agent/dist/main.js or another entry) on the selected runtime. */
export function agentCommand(script: string): AgentCommand {
  if (selected === 'node') return { file: process.execPath, prefix: [script], env: {}, unset: [] };
  const bun = bunExecutable();
  if (!bun) throw new Error(`the Bun subset needs ${BUN_PACKAGE} (an optional dependency npm ci installs on linux ${process.arch} glibc): run npm ci`);
  // The launcher runs agent/dist/main.js; other entries (bin/jetson-agent.js, jetson-fleet) run on Bun directly.
  if (script === MAIN_JS) return { file: path.join(REPO_ROOT, 'bin', 'jetson-agent'), prefix: [], env: { JETSON_AGENT_RUNTIME: 'bun' }, unset: ['NODE_OPTIONS'] };
  return { file: bun, prefix: [script], env: {}, unset: ['NODE_OPTIONS'] };
}

/** Apply an AgentCommand's environment changes to a base environment. */
export function commandEnv(cmd: AgentCommand, base: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !cmd.unset.includes(k)) out[k] = v;
  return { ...out, ...cmd.env };
}

import { describeRuntime, runtimeInfo } from '../../platform/runtime.js';
import { packageVersion } from '../program.js';
import type { CommandSpec } from '../types.js';

export const versionCommand: CommandSpec = {
  path: ['version'],
  summary: 'Print the agent version and the JavaScript runtime (Node.js or Bun) that runs it.',
  async run(ctx) {
    const version = await packageVersion();
    const runtime = runtimeInfo();
    // `node` stays for scripts that read it: the Node.js API level (Bun reports the one it implements).
    ctx.out.result({ version, runtime, node: process.version });
    ctx.out.print(`${version} on ${describeRuntime(runtime)}`);
  },
};

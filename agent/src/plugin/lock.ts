import { AgentError } from '../core/errors.js';
import type { PluginContext } from './context.js';
import { dpkgLocksHeld } from './dpkg.js';

/** Refuse to touch the library while apt/dpkg runs (docs/reference/library-swap.md "Swap sequence", step 1). */
export async function assertPackageManagerIdle(ctx: PluginContext): Promise<void> {
  const held = await dpkgLocksHeld(ctx.paths);
  if (held.length > 0) {
    throw new AgentError('PACKAGE_MANAGER_BUSY', `The package manager holds ${held.join(' and ')}; the library was not touched.`, {
      hint: 'Wait for apt/dpkg (or unattended-upgrades) to finish, then retry.',
      details: { locks: held },
    });
  }
}

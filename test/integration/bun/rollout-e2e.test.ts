// The Bun subset (docs/architecture.md "Runtimes"): ../compose/rollout-e2e.test.ts again, with every agent
// process started through bin/jetson-agent on the pinned Bun, as on a JetPack 4 board:
// signed rollouts to active through a real mosquitto, resumed download, refused models, zero failed requests across the hot swaps.
import { useRuntime } from '../../helpers/runtime.js';

useRuntime('bun');
await import('../compose/rollout-e2e.test.js');

// The Bun subset (docs/architecture.md "Runtimes"): ../daemon/standalone.test.ts again, with every agent
// process started through bin/jetson-agent on the pinned Bun, as on a JetPack 4 board:
// the embedded broker, retained status and health publish, sd_notify READY/WATCHDOG/STOPPING, a coded error for a taken port.
import { useRuntime } from '../../helpers/runtime.js';

useRuntime('bun');
await import('../daemon/standalone.test.js');

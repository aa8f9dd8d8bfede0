// The Bun subset (docs/architecture.md "Runtimes"): ../plugin/daemon.test.ts again, with every agent
// process started through bin/jetson-agent on the pinned Bun, as on a JetPack 4 board:
// `plugin install` swaps a library (dpkg-divert, ldconfig, the load check that Bun's dlopen
// cannot do itself), and the daemon recovers an interrupted restore and reports drift.
import { useRuntime } from '../../helpers/runtime.js';

useRuntime('bun');
await import('../plugin/daemon.test.js');

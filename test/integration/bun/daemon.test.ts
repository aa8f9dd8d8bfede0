// The Bun subset (docs/architecture.md "Runtimes"): ../http/daemon.test.ts again, with every agent
// process started through bin/jetson-agent on the pinned Bun, as on a JetPack 4 board:
// the daemon serves the demo model (/v1/detect with sharp, KServe with ONNX Runtime), the CLI hot-swaps it, SIGTERM exits 0.
import { useRuntime } from '../../helpers/runtime.js';

useRuntime('bun');
await import('../http/daemon.test.js');

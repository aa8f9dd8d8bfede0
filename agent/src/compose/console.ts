import { fileURLToPath } from 'node:url';
import type { AgentEnv } from '../core/agent-env.js';
import type { BoardInfo } from '../core/contracts/board.js';
import type { ConsoleDeps } from '../http/console/deps.js';
import { DEMO_MODEL_NAME, DEMO_MODEL_VERSION } from '../inference/demo-model.js';
import { listPackages } from '../models/store.js';
import { systemClock } from '../platform/clock.js';
import type { DeploymentHistory } from './deploy-history.js';
import type { LiveBoard } from './live-board.js';
import { boardSummary } from './mqtt-stack.js';

/**
 * Built by `npm run build` (tsc -p agent/console + scripts/copy-console-assets.mjs) and shipped
 * in the npm package (`files`): the same path from agent/src (tests) and agent/dist.
 */
export const CONSOLE_ASSETS_DIR = fileURLToPath(new URL('../../../agent/dist/console/', import.meta.url));

/** The board console's data sources (http/console/deps.ts), over the daemon's pieces. */
export function consoleDeps(env: AgentEnv, board: BoardInfo, live: LiveBoard, history: DeploymentHistory, device: () => string | null): ConsoleDeps {
  const cfg = env.config.inference;
  return {
    assetsDir: CONSOLE_ASSETS_DIR,
    sampleSec: cfg.consoleSampleSec,
    historySec: cfg.consoleHistorySec,
    feed: live,
    device: () => ({ deviceId: device(), board: boardSummary(board) }),
    builtInModels: cfg.demoModel ? [{ name: DEMO_MODEL_NAME, version: DEMO_MODEL_VERSION }] : [],
    storedModels: async () =>
      (await listPackages(env.stateDir)).map((p) => ({ name: p.name, version: p.version, network: p.network, format: p.format, sha256: p.sha256, sizeBytes: p.sizeBytes, addedAt: p.addedAt })),
    history: () => history.read(),
    historyRevision: () => history.revision,
    now: () => systemClock.now(),
  };
}

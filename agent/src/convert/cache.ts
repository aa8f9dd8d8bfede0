import path from 'node:path';
import type { BoardInfo } from '../core/contracts/board.js';
import { listDir, readJsonMaybe, statMaybe } from '../platform/fs.js';
import type { ConverterTool, Precision } from './args.js';

/**
 * Engine cache `state/engines/<key>/{model.engine, engine.json}` (issue #4 §5). An engine is
 * usable only on the TensorRT version and CUDA arch that built it (docs/reference/tensorrt-conversion.md "Engine portability"): when the
 * board changes, old entries are listed as stale, never loaded, and the next conversion builds
 * a new entry under a new key.
 */
export const ENGINE_FILE = 'model.engine';
export const ENGINE_META = 'engine.json';

export interface EngineRecord {
  readonly key: string;
  readonly packageSha256: string;
  readonly name: string;
  readonly version: string;
  readonly tool: ConverterTool;
  readonly converter: string;
  /** Canonical argv: key as ***, paths as <model>/<engine>/<calibration>. */
  readonly args: readonly string[];
  readonly tensorrt: string;
  readonly cudaArch: number | null;
  readonly jetpack: string | null;
  readonly precision: Precision;
  readonly maxBatch: number;
  readonly createdAt: string;
  readonly durationMs: number;
  readonly logFile: string;
}

export type EngineStatus = 'ready' | 'stale' | 'broken';

export interface EngineEntry extends EngineRecord {
  readonly status: EngineStatus;
  readonly dir: string;
  readonly enginePath: string;
}

export function enginesDir(stateDir: string): string {
  return path.join(stateDir, 'engines');
}

export function isStale(r: Pick<EngineRecord, 'tensorrt' | 'cudaArch'>, board: Pick<BoardInfo, 'tensorrt' | 'cudaArch'>): boolean {
  return r.tensorrt !== board.tensorrt || r.cudaArch !== board.cudaArch;
}

async function readEntry(dir: string, board: Pick<BoardInfo, 'tensorrt' | 'cudaArch'>): Promise<EngineEntry | undefined> {
  const rec = await readJsonMaybe<EngineRecord>(path.join(dir, ENGINE_META)).catch(() => undefined);
  if (!rec) return undefined;
  const enginePath = path.join(dir, ENGINE_FILE);
  const st = await statMaybe(enginePath);
  const status: EngineStatus = !st?.isFile() || st.size === 0 ? 'broken' : isStale(rec, board) ? 'stale' : 'ready';
  return { ...rec, status, dir, enginePath };
}

/** The cached engine for `key`, only when it is ready for this board (never a stale one). */
export async function readyEngine(stateDir: string, key: string, board: Pick<BoardInfo, 'tensorrt' | 'cudaArch'>): Promise<EngineEntry | undefined> {
  const e = await readEntry(path.join(enginesDir(stateDir), key), board);
  return e?.status === 'ready' ? e : undefined;
}

export async function listEngines(stateDir: string, board: Pick<BoardInfo, 'tensorrt' | 'cudaArch'>): Promise<EngineEntry[]> {
  const out: EngineEntry[] = [];
  for (const name of await listDir(enginesDir(stateDir))) {
    if (name.startsWith('.')) continue;
    const e = await readEntry(path.join(enginesDir(stateDir), name), board);
    if (e) out.push(e);
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

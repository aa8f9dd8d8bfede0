import path from 'node:path';
import { sha256 } from '../platform/fs.js';
import { pointedRecord, readRecord, writeRecord } from './artifact.js';
import type { RunnerApi } from './runner-plan.js';

/** A built trt-runner, recorded in `state/builds/trt-runner/<id>/artifact.json`. */
export interface RunnerArtifact {
  readonly id: string;
  readonly cacheKey: string;
  /** Host path of the binary copied into the build's state dir (what the daemon spawns). */
  readonly file: string;
  readonly sha256: string;
  /** TensorRT version of the headers it was compiled against. */
  readonly tensorrt: string;
  readonly api: RunnerApi;
  /** Board-absolute paths of what it was built against. */
  readonly tensorrtInclude: string;
  readonly nvinfer: string;
  readonly nvinferPlugin: string;
  readonly cudaRoot: string;
  readonly cudaVersion: string;
  readonly source: { readonly location: string; readonly identity: string };
  readonly cmake: { readonly path: string; readonly version: string };
  readonly cxxCompiler: string;
  readonly cmakeArgs: readonly string[];
  readonly makeArgs: readonly string[];
  readonly durationMs: number;
  readonly builtAt: string;
  readonly buildLog: string;
}

export interface RunnerStatePaths {
  readonly dir: string;
  /** Pointer to the runner the daemon uses: `{ id, dir }`. */
  readonly currentFile: string;
}

export function runnerStatePaths(stateDir: string): RunnerStatePaths {
  const dir = path.join(stateDir, 'builds', 'trt-runner');
  return { dir, currentFile: path.join(dir, 'current.json') };
}

/** Identical inputs → identical key → cache hit (pure). */
export function runnerCacheKey(inputs: Readonly<Record<string, unknown>>): string {
  const ordered = Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => (a < b ? -1 : 1)));
  return sha256(JSON.stringify(ordered));
}

/** The recorded artifact if its binary still has the recorded bytes. */
export async function readRunnerArtifact(dir: string): Promise<RunnerArtifact | undefined> {
  return readRecord<RunnerArtifact>(dir);
}

export async function recordRunnerArtifact(state: RunnerStatePaths, dir: string, rec: RunnerArtifact): Promise<void> {
  await writeRecord(state.currentFile, dir, rec);
}

/**
 * The runner `jetson-agent runner build` recorded last, if its binary is intact (a damaged or
 * deleted binary is treated as "no runner built", so the daemon says so instead of spawning it).
 */
export async function currentRunner(stateDir: string): Promise<RunnerArtifact | undefined> {
  return pointedRecord<RunnerArtifact>(runnerStatePaths(stateDir).currentFile);
}

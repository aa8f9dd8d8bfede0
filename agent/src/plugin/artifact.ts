import path from 'node:path';
import { readJsonMaybe, sha256, sha256File, statMaybe, writeJsonAtomic } from '../platform/fs.js';
import type { PluginStatePaths } from './state-paths.js';

/** A finished plugin build, recorded in `state/builds/<id>/artifact.json`. */
export interface ArtifactRecord {
  readonly id: string;
  readonly cacheKey: string;
  /** Host path of the built library copied into the build's state dir. */
  readonly file: string;
  readonly name: string;
  readonly sha256: string;
  readonly soname: string | null;
  readonly branch: string;
  readonly commit: string | null;
  readonly gpuArchs: readonly number[];
  /** Machine of the library (ELF e_machine name). */
  readonly machine: string;
  /** TensorRT version detected on the board the build is for. */
  readonly tensorrt: string | null;
  /** TRT_VERSION of the OSS tree that was built. */
  readonly treeVersion: string | null;
  readonly cudaVersion: string | null;
  readonly source: { readonly kind: string; readonly location: string };
  readonly cmake: { readonly path: string; readonly version: string };
  readonly cmakeArgs: readonly string[];
  readonly makeArgs: readonly string[];
  /** The make target that linked the library (absent in records of older agents: nvinfer_plugin). */
  readonly pluginTarget?: string;
  /** Plugin creators the tree could not build (release/11.0+: BatchTilePlugin_TRT, BatchedNMS_TRT …). */
  readonly missingCreators?: readonly string[];
  /** The plan's warnings (CUDA mismatch, missing TAO plugins), shown again by `plugin build`. */
  readonly warnings?: readonly string[];
  readonly durationMs: number;
  readonly builtAt: string;
  readonly buildLog: string;
}

export interface CacheInputs {
  readonly sourceIdentity: string;
  readonly branch: string;
  readonly gpuArchs: readonly number[];
  readonly tensorrt: string | null;
  readonly cudaVersion: string | null;
  readonly trtLibDir: string;
  readonly platformAarch64: boolean;
  readonly cCompiler: string;
  readonly cudaCompiler: { readonly path: string; readonly version: string };
  readonly cmakeVersion: string;
}

/** Identical inputs → identical key → cache hit (pure). */
export function cacheKey(inputs: CacheInputs): string {
  const ordered = Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => (a < b ? -1 : 1)));
  return sha256(JSON.stringify(ordered));
}

export function buildDirFor(state: PluginStatePaths, key: string): string {
  return path.join(state.buildsDir, key.slice(0, 16));
}

/** A build record whose `file` must still have the recorded `sha256` (plugin and runner builds). */
export interface VerifiedRecord {
  readonly file: string;
  readonly sha256: string;
}

/** The record in `dir`/artifact.json if its file still has the recorded bytes. */
export async function readRecord<T extends VerifiedRecord>(dir: string): Promise<T | undefined> {
  const rec = await readJsonMaybe<T>(path.join(dir, 'artifact.json')).catch(() => undefined);
  if (!rec || !(await statMaybe(rec.file))) return undefined;
  return (await sha256File(rec.file)) === rec.sha256 ? rec : undefined;
}

/** Write `dir`/artifact.json, then point `pointerFile` at it (the newest/current build). */
export async function writeRecord(pointerFile: string, dir: string, rec: VerifiedRecord & { readonly id: string }): Promise<void> {
  await writeJsonAtomic(path.join(dir, 'artifact.json'), rec);
  await writeJsonAtomic(pointerFile, { id: rec.id, dir });
}

/** The record `pointerFile` points at, if it is intact. */
export async function pointedRecord<T extends VerifiedRecord>(pointerFile: string): Promise<T | undefined> {
  const p = await readJsonMaybe<{ dir: string }>(pointerFile).catch(() => undefined);
  return p ? readRecord<T>(p.dir) : undefined;
}

/** The recorded artifact if its file still has the recorded bytes. */
export async function readArtifact(dir: string): Promise<ArtifactRecord | undefined> {
  return readRecord<ArtifactRecord>(dir);
}

export async function writeArtifact(state: PluginStatePaths, dir: string, rec: ArtifactRecord): Promise<void> {
  await writeRecord(state.lastBuildFile, dir, rec);
}

export async function lastArtifact(state: PluginStatePaths): Promise<ArtifactRecord | undefined> {
  return pointedRecord<ArtifactRecord>(state.lastBuildFile);
}

import path from 'node:path';
import type { AgentEnv } from '../core/agent-env.js';
import type { BoardInfo } from '../core/contracts/board.js';
import type { ModelManifest, Servable } from '../core/contracts/model.js';
import type { SingleFlight } from '../core/single-flight.js';
import { convertPackage, type ConvertDeps } from '../convert/run.js';
import type { Logger } from '../core/log.js';
import type { GoldenSet } from '../inference/golden.js';
import type { ResolvedServable, ServableResolver } from '../inference/resolver.js';
import { loadModelKey } from '../models/keyring.js';
import { addPackage, findPackage } from '../models/store.js';
import { readBytes } from '../platform/fs.js';

/**
 * The path a model takes from a stored package to something the inference service can load
 * (docs/architecture.md): store lookup → conversion (cached engine or ONNX Runtime model) →
 * golden images loaded. Shared by `models activate` (through the inference admin route), the
 * rollout executor and the inbox. Conversions run one at a time through the single-flight
 * runner (docs/reference/design-rules.md "Cross-cutting rules": long work is single-flight, cancellable, with a deadline).
 */
export interface ModelFlow {
  /** Take a package file into the store (size/sha256 checked, safe unpack). */
  intake(file: string, sha256: string | undefined): Promise<{ name: string; version: string; packageSha256: string }>;
  /** Stored NAME@VERSION → Servable for this board (converted or taken from the engine cache). */
  prepare(name: string, version: string, signal?: AbortSignal): Promise<Servable>;
  /** Resolver for the inference service: built-in servables first, then the store. */
  resolver(builtIn: readonly Servable[]): ServableResolver;
}

export async function loadGolden(packageDir: string, manifest: ModelManifest): Promise<GoldenSet | undefined> {
  if (!manifest.golden) return undefined;
  const cases = [];
  for (const c of manifest.golden.cases) cases.push({ image: c.image, bytes: await readBytes(path.join(packageDir, c.image)), detections: c.detections });
  return { iouTolerance: manifest.golden.iouTolerance, scoreTolerance: manifest.golden.scoreTolerance, cases };
}

/** Conversion dependencies from the agent's config (shared by `jetson-agent convert` and the daemon). */
export function convertDeps(env: AgentEnv, board: BoardInfo, log: Logger): ConvertDeps {
  return {
    stateDir: env.stateDir,
    paths: env.paths,
    board,
    converters: { tltConverter: env.config.convert.tltConverter, trtexec: env.config.convert.trtexec },
    workspaceBytes: env.config.convert.workspaceBytes,
    timeoutMs: env.config.convert.timeoutSec * 1000,
    log,
    loadKey: (keyRef) => loadModelKey(env.config.models.keyringPath, keyRef),
  };
}

export function createModelFlow(env: AgentEnv, board: BoardInfo, runner: SingleFlight): ModelFlow {
  const log = env.log.child({ module: 'model-flow' });
  const convertStored = async (ref: string, signal?: AbortSignal): Promise<ResolvedServable> => {
    const found = await findPackage(env.stateDir, ref);
    const outcome = await runner.runQueued(
      `convert ${found.manifest.name}@${found.manifest.version}`,
      ({ signal: inner }) =>
        convertPackage(convertDeps(env, board, log), {
          packageDir: found.pkg.dir,
          packageSha256: found.pkg.sha256,
          manifest: found.manifest,
          signal: inner,
        }),
      { deadlineMs: env.config.convert.timeoutSec * 1000, ...(signal ? { signal } : {}) },
    );
    if (outcome.dryRun) throw new Error('unreachable: conversion without --dry-run returned a dry run');
    const golden = await loadGolden(found.pkg.dir, found.manifest);
    return golden ? { servable: outcome.servable, golden } : { servable: outcome.servable };
  };
  return {
    intake: async (file, sha256) => {
      const { pkg } = await addPackage({
        stateDir: env.stateDir,
        file,
        ...(sha256 ? { expectedSha256: sha256 } : {}),
        maxBytes: env.config.models.maxPackageBytes,
        now: () => new Date(),
      });
      return { name: pkg.name, version: pkg.version, packageSha256: pkg.sha256 };
    },
    prepare: async (name, version, signal) => (await convertStored(`${name}@${version}`, signal)).servable,
    resolver: (builtIn) => async (name, version) => {
      const hit = builtIn.find((s) => s.model.name === name && s.model.version === version);
      if (hit) return { servable: hit };
      return convertStored(`${name}@${version}`);
    },
  };
}

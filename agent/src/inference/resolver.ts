import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { ModelManifestSchema, type Servable } from '../core/contracts/model.js';
import { AgentError } from '../core/errors.js';
import { listDir, readBytes, readTextMaybe } from '../platform/fs.js';
import type { GoldenSet } from './golden.js';

/** A servable plus what activation needs beside it (golden images loaded from disk). */
export interface ResolvedServable {
  readonly servable: Servable;
  readonly golden?: GoldenSet;
}

export type ServableResolver = (name: string, version: string) => Promise<ResolvedServable>;

/**
 * Interim resolver until the model store lands: the demo model (and any other in-memory
 * servables), then `<stateDir>/models/<dir>/servable.json` — a `Servable` as JSON whose
 * relative `onnxPath`/`enginePath` and golden `image` paths are relative to that directory
 * (format: docs/http-api.md "Servable files").
 */
export function localResolver(modelsDir: string, builtIn: readonly Servable[]): ServableResolver {
  return async (name, version) => {
    const hit = builtIn.find((s) => s.model.name === name && s.model.version === version);
    if (hit) return { servable: hit };
    let dirs: string[] = [];
    try {
      dirs = await listDir(modelsDir);
    } catch {
      dirs = [];
    }
    for (const d of dirs) {
      const dir = path.join(modelsDir, d);
      const text = await readTextMaybe(path.join(dir, 'servable.json'));
      if (text === undefined) continue;
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        continue;
      }
      const s = raw as Servable;
      if (s?.model?.name !== name || s.model.version !== version) continue;
      return loadServable(dir, s);
    }
    throw new AgentError('MODEL_NOT_FOUND', `No model ${name}@${version} is known.`, {
      hint: `Known: ${[...builtIn.map((s) => `${s.model.name}@${s.model.version}`), `servable.json files under ${modelsDir}`].join(', ')}.`,
    });
  };
}

async function loadServable(dir: string, s: Servable): Promise<ResolvedServable> {
  const model = Value.Default(ModelManifestSchema, structuredClone(s.model));
  if (!Value.Check(ModelManifestSchema, model)) {
    const first = [...Value.Errors(ModelManifestSchema, model)][0];
    throw new AgentError('BAD_REQUEST', `servable.json in ${dir} has an invalid model: ${first?.path ?? ''} ${first?.message ?? ''}.`);
  }
  const abs = (p: string): string => (path.isAbsolute(p) ? p : path.join(dir, p));
  const servable: Servable =
    s.kind === 'tensorrt'
      ? { kind: 'tensorrt', enginePath: abs(s.enginePath), model, packageSha256: s.packageSha256 }
      : { kind: 'onnxruntime', onnxPath: abs(s.onnxPath), model, packageSha256: s.packageSha256, nms: s.nms ?? null, outputNames: s.outputNames ?? [] };
  if (!model.golden) return { servable };
  const cases = [];
  for (const c of model.golden.cases) cases.push({ image: c.image, bytes: await readBytes(abs(c.image)), detections: c.detections });
  return { servable, golden: { iouTolerance: model.golden.iouTolerance, scoreTolerance: model.golden.scoreTolerance, cases } };
}

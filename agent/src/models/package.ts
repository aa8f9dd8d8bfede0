import path from 'node:path';
import { AgentError, UsageError } from '../core/errors.js';
import { GoldenCase, type ModelManifest } from '../core/contracts/model.js';
import { Value } from '@sinclair/typebox/value';
import { Type } from '@sinclair/typebox';
import { copyFileAtomic, fsError, mkdirp, readBytes, readJsonMaybe, readText, removePath, sha256File, statMaybe, tempNameFor, writeJsonAtomic } from '../platform/fs.js';
import { makeTempDir, readHead, renamePath } from '../platform/fs-stream.js';
import { createTar } from '../platform/tar.js';
import { assertEtltKey, decryptEtlt, formatFromName, readEtltHeader } from './etlt-file.js';
import { readTrtNmsAttributes } from './onnx/prepare.js';
import { readOnnxSignature, type OnnxSignature } from './onnx/signature.js';
import { detectFamily } from './families/detect.js';
import { checkInputAgrees, familyUnknown, graphManifestFields, type ProfileFlags, type ThresholdFlags } from './families/graph-manifest.js';
import { DETECTOR_FAMILIES, type DetectorFamilyName } from '../core/contracts/detector.js';
import { MAX_TOP_K } from './onnx/batched-nms-attributes.js';
import { isInsidePath } from './manifest.js';
import { buildManifest, type ManifestInputs } from './package-manifest.js';
import { looksLikeProtobuf } from './protobuf-sniff.js';
import { parseSpec } from './spec-parse.js';
import { parseCalibrationCache } from './calibration.js';
import { deriveFromSpec, type SpecFlags, type SpecWarning } from './spec-derive.js';
import type { ModelKey } from './keyring.js';

/** `jetson-fleet package create` (issue #4 §1): validate, stage, tar, hash. */
export interface CreateOptions extends Omit<ManifestInputs, 'modelFileName' | 'format' | 'etltInputName' | 'spec' | 'calibrationFileName' | 'golden'> {
  readonly model: string;
  readonly specFile?: string;
  readonly calibration?: string;
  readonly goldenDir?: string;
  readonly out: string;
  /** Optional: prove the key decrypts the .etlt before shipping it (the key is not packaged). */
  readonly key?: ModelKey;
  /** The caller's flags for spec values (`--input C,H,W` …): named in SPEC_INVALID hints. */
  readonly specFlags?: SpecFlags;
  /** `--family`: overrides the family read from the graph. */
  readonly family?: string;
  /** Pre-processing and threshold flags over the family's upstream defaults (ONNX families). */
  readonly profile?: ProfileFlags;
  readonly thresholds?: ThresholdFlags;
}

export interface CreateResult {
  readonly file: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly manifest: ModelManifest;
  /** Spec warnings (unknown fields, replaced values, defaults), each with file:line. */
  readonly warnings: SpecWarning[];
}

const GoldenFile = Type.Object({
  iouTolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  scoreTolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  cases: Type.Array(GoldenCase, { minItems: 1 }),
});

async function mustBeFile(p: string, what: string): Promise<void> {
  const st = await statMaybe(p).catch((err: unknown) => {
    throw fsError('read', p, err);
  });
  if (!st?.isFile()) throw new UsageError(`${what} ${p} does not exist or is not a file.`);
}

export async function createPackage(o: CreateOptions): Promise<CreateResult> {
  await mustBeFile(o.model, 'Model file');
  const format = formatFromName(o.model);
  if (!format) throw new UsageError(`--model ${o.model}: expected a .etlt or .onnx file.`);
  let etltInputName: string | undefined;
  let sig: OnnxSignature | undefined;
  if (o.family !== undefined && !(DETECTOR_FAMILIES as readonly string[]).includes(o.family)) {
    throw new UsageError(`--family ${o.family} is not a detector family this agent knows.`, `Use one of: ${DETECTOR_FAMILIES.join(', ')}.`);
  }
  if (format === 'etlt') {
    const { header } = await readEtltHeader(o.model);
    etltInputName = header.inputName || undefined;
    if (o.key) {
      await assertEtltKey(o.model, o.key.value, o.key.name);
      // With the key at hand, an ONNX payload's BatchedNMS node is checked now, not on the board.
      if (header.payload === 'onnx') readTrtNmsAttributes((await decryptEtlt(o.model, o.key.value)).plain);
    }
  } else {
    const st = await statMaybe(o.model);
    if (!looksLikeProtobuf(await readHead(o.model, 64 * 1024), st?.size ?? 0, 'onnx')) {
      throw new AgentError('PACKAGE_INVALID', `${o.model} does not look like an ONNX model (no ModelProto header).`, { hint: 'Pass the .onnx written by tao export.' });
    }
    const bytes = await readBytes(o.model);
    // A BatchedNMS node the real plugin refuses, or that makes it find nothing, stops here
    // (NMS_ATTRIBUTES_INVALID) rather than on a Jetson.
    readTrtNmsAttributes(bytes);
    sig = readOnnxSignature(bytes);
  }
  let spec: ManifestInputs['spec'];
  if (o.specFile) {
    await mustBeFile(o.specFile, 'Spec file');
    // --input / --classes replace the spec's values, and spec problems with those values only warn.
    const overrides = { ...(o.dims ? { dims: o.dims } : {}), ...(o.classes?.length ? { classes: o.classes } : {}) };
    const summary = deriveFromSpec(parseSpec(await readText(o.specFile), o.specFile), o.specFile, { ...(o.specFlags ? { flags: o.specFlags } : {}), overrides });
    spec = { fileName: 'spec.txt', summary };
  }
  if (o.calibration) {
    await mustBeFile(o.calibration, 'Calibration cache');
    parseCalibrationCache(await readText(o.calibration), o.calibration);
  }
  let golden: ModelManifest['golden'];
  if (o.goldenDir) {
    const expectedFile = path.join(o.goldenDir, 'expected.json');
    const raw = await readJsonMaybe(expectedFile).catch((err: unknown) => {
      throw new UsageError(`${expectedFile} is not valid JSON: ${(err as Error).message}.`);
    });
    if (raw === undefined) throw new UsageError(`--golden ${o.goldenDir} has no expected.json (cases: [{image, detections}]).`);
    if (!Value.Check(GoldenFile, raw)) {
      const first = [...Value.Errors(GoldenFile, raw)][0];
      throw new UsageError(`${expectedFile}: ${first?.path ?? ''} ${first?.message ?? 'invalid'}.`);
    }
    for (const c of raw.cases) {
      if (!isInsidePath(c.image)) throw new UsageError(`${expectedFile}: image "${c.image}" must be relative to the golden directory.`);
      await mustBeFile(path.join(o.goldenDir, c.image), 'Golden image');
    }
    golden = Value.Default(
      Type.Object({ iouTolerance: Type.Number({ default: 0.9 }), scoreTolerance: Type.Number({ default: 0.05 }), cases: Type.Array(GoldenCase) }),
      { ...raw, cases: raw.cases.map((c) => ({ ...c, image: `golden/${c.image}` })) },
    ) as ModelManifest['golden'];
  }
  // The family from the graph (or --family), and the graph's input size against the spec's and the flags'.
  let graph: ManifestInputs['graph'];
  if (sig) {
    const dims = o.dims ?? (spec ? { c: spec.summary.input.channels, h: spec.summary.input.height, w: spec.summary.input.width } : undefined);
    const match = detectFamily(sig, o.family as DetectorFamilyName | undefined, dims ? { h: dims.h, w: dims.w } : undefined);
    if (!match) throw familyUnknown(sig, o.family);
    checkInputAgrees(match, dims, o.dims ? '--input' : (o.specFile ?? 'the spec'));
    graph =
      match.family === 'tao-batched-nms'
        ? { kind: 'tao', signature: { inputs: [...sig.inputs], outputs: [...sig.outputs] }, dynamicBatch: match.dynamicBatch }
        : {
            kind: 'family',
            fields: graphManifestFields({
              match,
              sig,
              ...(o.dims ? { dims: o.dims } : {}),
              ...(o.classes ? { classes: o.classes } : {}),
              ...(o.profile ? { profile: o.profile } : {}),
              ...(o.thresholds ? { thresholds: o.thresholds } : {}),
            }),
          };
  } else if (o.family !== undefined && o.family !== 'tao-batched-nms') {
    throw new UsageError(`--family ${o.family} needs an .onnx model; an .etlt is a TAO BatchedNMS model.`);
  }
  const manifest = buildManifest({
    ...o,
    ...(graph ? { graph } : {}),
    modelFileName: path.basename(o.model),
    format,
    ...(etltInputName ? { etltInputName } : {}),
    ...(spec ? { spec } : {}),
    ...(o.calibration ? { calibrationFileName: 'calibration.bin' } : {}),
    ...(golden ? { golden } : {}),
  });

  // TAO's YOLO exporters write the BatchedNMS node with topK = 2 × nms_config.top_k
  // (docs/reference/batched-nms.md): above 2048 the plugin refuses the engine build on the board.
  if (spec && manifest.network.startsWith('yolo') && 2 * manifest.nms.topK > MAX_TOP_K) {
    throw new AgentError('NMS_ATTRIBUTES_INVALID', `${o.specFile}: nms_config top_k ${manifest.nms.topK} makes TAO export a BatchedNMS topK of ${2 * manifest.nms.topK}; TensorRT's plugin refuses topK above ${MAX_TOP_K}.`, {
      hint: `Set top_k ≤ ${MAX_TOP_K / 2} in the spec, re-export, and run \`jetson-fleet package create\` again.`,
    });
  }
  const outDir = path.dirname(path.resolve(o.out));
  await mkdirp(outDir);
  const stage = await makeTempDir(outDir, '.pkg-stage-');
  const tmpOut = tempNameFor(path.resolve(o.out));
  try {
    const entries = ['model.json', manifest.file];
    await writeJsonAtomic(path.join(stage, 'model.json'), manifest);
    await copyFileAtomic(o.model, path.join(stage, manifest.file));
    if (o.specFile && manifest.spec) {
      await copyFileAtomic(o.specFile, path.join(stage, manifest.spec));
      entries.push(manifest.spec);
    }
    if (o.calibration && manifest.calibration) {
      await copyFileAtomic(o.calibration, path.join(stage, manifest.calibration));
      entries.push(manifest.calibration);
    }
    if (o.goldenDir && manifest.golden) {
      for (const c of manifest.golden.cases) {
        await mkdirp(path.dirname(path.join(stage, c.image)));
        await copyFileAtomic(path.join(o.goldenDir, c.image.slice('golden/'.length)), path.join(stage, c.image));
        if (!entries.includes(c.image)) entries.push(c.image);
      }
    }
    await createTar(tmpOut, stage, entries, /\.(t?gz)$/.test(o.out));
    await renamePath(tmpOut, path.resolve(o.out));
  } finally {
    await removePath(stage);
    await removePath(tmpOut);
  }
  const st = await statMaybe(o.out);
  return { file: path.resolve(o.out), sha256: await sha256File(o.out), sizeBytes: st?.size ?? 0, manifest, warnings: spec?.summary.warnings ?? [] };
}

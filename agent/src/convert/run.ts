import path from 'node:path';
import { AgentError, UsageError } from '../core/errors.js';
import { pluginsNeededBy, removedPlugins, removedPluginsFix } from '../core/tensorrt-plugins.js';
import type { BoardInfo } from '../core/contracts/board.js';
import type { ModelManifest, Servable } from '../core/contracts/model.js';
import type { Logger } from '../core/log.js';
import { run } from '../platform/exec.js';
import { exists, mkdirp, readBytes, readJsonMaybe, removePath, sha256, statMaybe, writeJsonAtomic, writeFileAtomic } from '../platform/fs.js';
import { makeTempDir, renamePath } from '../platform/fs-stream.js';
import type { HostPaths } from '../platform/paths.js';
import { assertEtltKey, decryptEtlt, readEtltHeader } from '../models/etlt-file.js';
import type { ModelKey } from '../models/keyring.js';
import { prepareForOnnxRuntime, readTrtNmsAttributes } from '../models/onnx/prepare.js';
import { CANONICAL_PATHS, KEY_PLACEHOLDER, converterArgs, engineCacheKey, type ArgInputs, type ConverterTool, type Payload, type Precision } from './args.js';
import { ENGINE_FILE, ENGINE_META, enginesDir, readyEngine, type EngineRecord } from './cache.js';
import { findConverter, type ConverterConfig } from './converters.js';
import { diagnoseConverterOutput } from './failures.js';

/**
 * One conversion (issue #4 §5): board + package → TensorRT engine (Jetson) or ONNX Runtime
 * model (elsewhere). Derivation is in args.ts; this file does the I/O: key check, cache,
 * converter run with deadline/cancel/log, failure mapping, atomic commit.
 */
export interface ConvertDeps {
  readonly stateDir: string;
  readonly paths: HostPaths;
  readonly board: BoardInfo;
  readonly converters: ConverterConfig;
  readonly workspaceBytes: number;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Called only when a key is actually needed (never for --dry-run). */
  readonly loadKey: (keyRef: string) => Promise<ModelKey>;
  readonly now?: () => Date;
}

export interface ConvertRequest {
  readonly packageDir: string;
  readonly packageSha256: string;
  readonly manifest: ModelManifest;
  readonly precision?: Precision;
  readonly maxBatch?: number;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly onLine?: (line: string) => void;
}

export type ConvertOutcome =
  | { readonly target: 'tensorrt'; readonly dryRun: true; readonly converter: string; readonly args: readonly string[]; readonly engine: string; readonly key: string; readonly cached: boolean }
  | { readonly target: 'tensorrt'; readonly dryRun: false; readonly servable: Servable; readonly record: EngineRecord; readonly cached: boolean }
  | { readonly target: 'onnxruntime'; readonly dryRun: true; readonly converter: null; readonly args: readonly string[]; readonly engine: string; readonly key: string; readonly cached: boolean }
  | { readonly target: 'onnxruntime'; readonly dryRun: false; readonly servable: Servable; readonly cached: boolean };

export const SERVABLE_FILE = 'servable.json';

async function payloadOf(dir: string, m: ModelManifest): Promise<Payload> {
  if (m.format === 'onnx') return 'onnx';
  return (await readEtltHeader(path.join(dir, m.file))).header.payload;
}

export async function convertPackage(deps: ConvertDeps, req: ConvertRequest): Promise<ConvertOutcome> {
  const m = req.manifest;
  const precision = req.precision ?? m.precision;
  const maxBatch = req.maxBatch ?? m.maxBatch;
  if (precision === 'int8' && !m.calibration) {
    throw new UsageError(`${m.name}@${m.version} has no INT8 calibration cache; int8 needs one.`, 'Use --precision fp16, or rebuild the package with --calibration.');
  }
  const modelPath = path.join(req.packageDir, m.file);
  const payload = await payloadOf(req.packageDir, m);
  const onJetson = deps.board.isJetson && deps.board.tensorrt !== null;
  if (!onJetson) return toOnnxRuntime(deps, req, payload);

  const tensorrt = deps.board.tensorrt ?? '';
  // Before any converter runs: TensorRT 11 has no BatchedNMS/BatchTile (core/tensorrt-plugins.ts).
  const removed = removedPlugins(tensorrt, pluginsNeededBy(m));
  if (removed.length) {
    throw new AgentError('TENSORRT_PLUGIN_REMOVED', `${m.name}@${m.version} needs ${removed.join(', ')}, which TensorRT ${tensorrt} on this board does not have (removed in TensorRT 11).`, {
      hint: removedPluginsFix(removed),
    });
  }
  const inputs: ArgInputs = { manifest: m, format: m.format, payload, precision, maxBatch, workspaceBytes: deps.workspaceBytes, tensorrt };
  const canonical = converterArgs(inputs, CANONICAL_PATHS);
  const key = engineCacheKey({ packageSha256: req.packageSha256, tool: canonical.tool, args: canonical.args, tensorrt, cudaArch: deps.board.cudaArch });
  const finalDir = path.join(enginesDir(deps.stateDir), key);
  const finalEngine = path.join(finalDir, ENGINE_FILE);
  const calibration = m.calibration ? path.join(req.packageDir, m.calibration) : undefined;
  const cached = await readyEngine(deps.stateDir, key, deps.board);
  if (cached && !req.dryRun) {
    return { target: 'tensorrt', dryRun: false, servable: { kind: 'tensorrt', enginePath: cached.enginePath, model: m, packageSha256: req.packageSha256 }, record: cached, cached: true };
  }
  // The BatchedNMS node is checked before trtexec runs: the real plugin refuses some attribute
  // sets only deep in the build and silently finds nothing with others (NMS_ATTRIBUTES_INVALID).
  if (m.format === 'onnx') readTrtNmsAttributes(await readBytes(modelPath));
  const converter = await findConverter(canonical.tool, deps.converters, deps.paths, deps.board);
  // An ONNX .etlt going to trtexec is decrypted into the build dir first (never a -k).
  const decrypt = m.format === 'etlt' && canonical.tool === 'trtexec';
  if (req.dryRun) {
    const shown = converterArgs(inputs, { model: decrypt ? '<build dir>/decrypted.onnx' : modelPath, engine: finalEngine, calibration, key: KEY_PLACEHOLDER });
    return { target: 'tensorrt', dryRun: true, converter, args: shown.args, engine: finalEngine, key, cached: cached !== undefined };
  }
  let modelKey: ModelKey | undefined;
  if (m.format === 'etlt') {
    if (!m.keyRef) throw new AgentError('MODEL_MANIFEST_INVALID', `${m.name}@${m.version} is an .etlt without keyRef.`);
    modelKey = await deps.loadKey(m.keyRef);
    // Fail in milliseconds on a wrong key instead of a cryptic converter error minutes later.
    await assertEtltKey(modelPath, modelKey.value, modelKey.name);
    if (payload === 'onnx') readTrtNmsAttributes((await decryptEtlt(modelPath, modelKey.value)).plain);
  }

  const root = enginesDir(deps.stateDir);
  await mkdirp(root, 0o750);
  await mkdirp(path.join(deps.stateDir, 'logs'), 0o750);
  const started = (deps.now ?? (() => new Date()))();
  const logFile = path.join(deps.stateDir, 'logs', `convert-${m.name}-${m.version}-${key.slice(0, 12)}-${started.toISOString().replace(/[:.]/g, '-')}.log`);
  const tmp = await makeTempDir(root, `.building-${key.slice(0, 12)}-`);
  const decrypted = path.join(tmp, 'decrypted.onnx');
  const real = converterArgs(inputs, {
    model: decrypt ? decrypted : modelPath,
    engine: path.join(tmp, ENGINE_FILE),
    calibration,
    key: decrypt ? undefined : modelKey?.value,
  });
  const redact = modelKey ? [modelKey.value] : [];
  deps.log.info({ package: `${m.name}@${m.version}`, tool: real.tool, converter, cacheKey: key, logFile }, 'converting');
  try {
    if (decrypt && modelKey) await writeFileAtomic(decrypted, (await decryptEtlt(modelPath, modelKey.value)).plain, { mode: 0o600 });
    const res = await run(converter, real.args, {
      timeoutMs: deps.timeoutMs,
      ...(req.signal ? { signal: req.signal } : {}),
      logFile,
      redact,
      reject: false,
      onLine: (line) => req.onLine?.(redact.reduce((acc, s) => acc.split(s).join(KEY_PLACEHOLDER), line)),
    });
    if (res.exitCode !== 0) throw failure(res.stdout + '\n' + res.stderr, res.exitCode, res.signal, logFile, redact);
    if (decrypt) await removePath(decrypted); // the plaintext model does not stay on disk
    const st = await statMaybe(path.join(tmp, ENGINE_FILE));
    if (!st?.isFile() || st.size === 0) {
      throw new AgentError('CONVERT_FAILED', `${path.basename(converter)} exited 0 but wrote no engine.`, { hint: `See the full log in ${logFile}.`, details: { logFile } });
    }
    const record: EngineRecord = {
      key,
      packageSha256: req.packageSha256,
      name: m.name,
      version: m.version,
      tool: real.tool,
      converter,
      args: canonical.args,
      tensorrt,
      cudaArch: deps.board.cudaArch,
      jetpack: deps.board.jetpack,
      precision,
      maxBatch,
      createdAt: started.toISOString(),
      durationMs: res.durationMs,
      logFile,
    };
    await writeJsonAtomic(path.join(tmp, ENGINE_META), record);
    const servable: Servable = { kind: 'tensorrt', enginePath: finalEngine, model: m, packageSha256: req.packageSha256 };
    await writeJsonAtomic(path.join(tmp, SERVABLE_FILE), servable);
    if (await exists(finalDir)) await removePath(finalDir); // a broken entry under the same key
    await renamePath(tmp, finalDir);
    return { target: 'tensorrt', dryRun: false, servable, record, cached: false };
  } catch (err) {
    await removePath(tmp);
    throw err;
  }
}

function failure(output: string, exitCode: number, signal: string | undefined, logFile: string, redact: readonly string[]): AgentError {
  const clean = redact.reduce((acc, s) => acc.split(s).join(KEY_PLACEHOLDER), output);
  const d = diagnoseConverterOutput(clean);
  if (d) return new AgentError(d.code, d.message, { hint: `${d.hint} Full log: ${logFile}.`, details: { logFile, exitCode } });
  if (signal === 'SIGKILL') {
    return new AgentError('OUT_OF_MEMORY', 'The converter was killed (SIGKILL), most likely by the kernel OOM killer.', {
      hint: `Lower --max-batch or convert.workspaceBytes, or add swap. Full log: ${logFile}.`,
      details: { logFile },
    });
  }
  const tail = clean.trimEnd().split('\n').slice(-10).join('\n');
  return new AgentError('CONVERT_FAILED', `The converter failed with exit ${exitCode}${signal ? ` (${signal})` : ''}:\n${tail}`, {
    hint: `See the full log in ${logFile}.`,
    details: { logFile, exitCode },
  });
}

/** Off-Jetson: ONNX payload → ONNX Runtime model via the inference feature's graph preparation. */
async function toOnnxRuntime(deps: ConvertDeps, req: ConvertRequest, payload: Payload): Promise<ConvertOutcome> {
  const m = req.manifest;
  if (payload === 'uff') {
    throw new AgentError('UFF_NEEDS_TENSORRT', `${m.name}@${m.version} is a UFF-based .etlt; only TensorRT on a Jetson can convert it, and this host has no TensorRT.`, {
      hint: 'Deploy it to a Jetson, or re-export the model with TAO ≥ 3.21.08 (ONNX .etlt) or TAO 5 (.onnx) to run it here with ONNX Runtime.',
    });
  }
  // v2: servable.json records caffeSemantics and scoreBits and isNormalized's real default; a
  // v1 preparation is redone rather than served with the old NMS attributes.
  const key = sha256(JSON.stringify({ v: 2, pkg: req.packageSha256, target: 'onnxruntime' })).slice(0, 32);
  const dir = path.join(deps.stateDir, 'models', key);
  const onnxPath = path.join(dir, 'model.onnx');
  const existing = await readJsonMaybe<Servable>(path.join(dir, SERVABLE_FILE)).catch(() => undefined);
  if (req.dryRun) return { target: 'onnxruntime', dryRun: true, converter: null, args: [], engine: onnxPath, key, cached: existing !== undefined };
  if (existing && (await exists(onnxPath))) return { target: 'onnxruntime', dryRun: false, servable: existing, cached: true };

  const modelFile = path.join(req.packageDir, m.file);
  let onnx: Uint8Array;
  if (m.format === 'etlt') {
    if (!m.keyRef) throw new AgentError('MODEL_MANIFEST_INVALID', `${m.name}@${m.version} is an .etlt without keyRef.`);
    const k = await deps.loadKey(m.keyRef);
    await assertEtltKey(modelFile, k.value, k.name);
    onnx = (await decryptEtlt(modelFile, k.value)).plain;
  } else {
    onnx = await readBytes(modelFile);
  }
  const prepared = prepareForOnnxRuntime(onnx);
  const servable: Servable = {
    kind: 'onnxruntime',
    onnxPath,
    model: m,
    packageSha256: req.packageSha256,
    nms: prepared.nms,
    outputNames: prepared.outputNames,
  };
  await mkdirp(dir, 0o750);
  await writeFileAtomic(onnxPath, prepared.model);
  await writeJsonAtomic(path.join(dir, SERVABLE_FILE), servable);
  return { target: 'onnxruntime', dryRun: false, servable, cached: false };
}

export type { ConverterTool };

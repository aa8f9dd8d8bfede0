import path from 'node:path';
import { detectBoard } from '../../board/detect.js';
import type { BoardInfo } from '../../core/contracts/board.js';
import { AgentError, UsageError } from '../../core/errors.js';
import { isErrorCode } from '../../core/error-codes.js';
import { fsError, readBytes } from '../../platform/fs.js';
import type { CommandContext, CommandSpec } from '../types.js';
import { table } from '../style.js';
import { daemonUrl } from './daemon-client.js';
import { optInt, optString } from './opts.js';

/** Rows of the human table, in the order a person checks a board. */
function rows(b: BoardInfo): Array<[string, string]> {
  const s = (v: string | number | null | undefined): string => (v === null || v === undefined ? '-' : String(v));
  return [
    ['jetson', b.isJetson ? 'yes' : 'no'],
    ['model', s(b.model)],
    ['module', s(b.module)],
    ['soc', s(b.soc)],
    ['chip id', s(b.chipId)],
    ['cuda arch', s(b.cudaArch)],
    ['l4t', s(b.l4t)],
    ['jetpack', s(b.jetpack)],
    ['cuda', s(b.cuda)],
    ['cudnn', s(b.cudnn)],
    ['tensorrt', s(b.tensorrt)],
    ['trt oss branch', b.trtOssBranch ? `${b.trtOssBranch}${b.cmakeMinimum ? ` (cmake >= ${b.cmakeMinimum})` : ''}` : '-'],
    ['cmake', b.cmake ? `${b.cmake.version} (${b.cmake.path})` : '-'],
    ['trt lib dir', s(b.trtLibDir)],
    ['plugin library', s(b.pluginLibrary)],
    ['plugin package', b.pluginPackage ? `${b.pluginPackage.name} ${b.pluginPackage.version}` : '-'],
    ...(b.os ? ([['os', b.os]] as Array<[string, string]>) : []),
  ];
}

export function formatBoard(b: BoardInfo): string {
  const table = rows(b);
  const width = Math.max(...table.map(([k]) => k.length));
  const lines = table.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  for (const w of b.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

interface DetectAnswer {
  readonly model: { readonly name: string; readonly version: string };
  readonly image: { readonly width: number; readonly height: number };
  readonly detections: readonly { label: string; score: number; box: { x1: number; y1: number; x2: number; y2: number } }[];
  readonly timings: { readonly totalMs: number };
}

/** JPEG and PNG by their magic bytes (what /v1/detect accepts); anything else is sent as octet-stream and the daemon says why it cannot decode it. */
function contentType(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  return 'application/octet-stream';
}

/** `detect IMAGE...`: each image through the running daemon's POST /v1/detect. */
async function detectImages(ctx: CommandContext, images: readonly string[]): Promise<void> {
  const env = await ctx.agent();
  const threshold = optString(ctx, 'threshold');
  if (threshold !== undefined && !(Number(threshold) >= 0 && Number(threshold) <= 1)) throw new UsageError(`--threshold "${threshold}" is not a number in [0, 1].`);
  const max = optInt(ctx, 'max-detections', 1);
  const model = optString(ctx, 'model');
  const q = new URLSearchParams({ ...(threshold !== undefined ? { threshold } : {}), ...(max !== undefined ? { maxDetections: String(max) } : {}), ...(model ? { model } : {}) });
  const url = daemonUrl(env, `/v1/detect${q.size ? `?${q.toString()}` : ''}`);
  const token = env.config.inference.token;
  const results: { file: string; result: DetectAnswer }[] = [];
  for (const file of images) {
    const bytes = await readBytes(file).catch((err: unknown) => {
      throw fsError('read', file, err);
    });
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': contentType(bytes), ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: bytes, signal: ctx.signal });
    } catch (err) {
      throw new AgentError('MODEL_NOT_READY', `The daemon's inference endpoint at ${url.split('?')[0] ?? url} is not reachable.`, {
        cause: err,
        hint: 'Start the daemon (`jetson-agent run`, or `systemctl start jetson-agent`) or check inference.host/inference.port. For the board itself, run `jetson-agent detect` without an image.',
      });
    }
    const body = (await res.json().catch(() => ({}))) as DetectAnswer & { error?: { code?: string; message?: string; hint?: string } };
    if (!res.ok) {
      const e = body.error;
      throw new AgentError(e?.code && isErrorCode(e.code) ? e.code : 'INTERNAL', `${file}: ${e?.message ?? `HTTP ${res.status}`}`, e?.hint ? { hint: e.hint } : {});
    }
    results.push({ file, result: body });
  }
  ctx.out.result(images.length === 1 ? results[0]?.result : { results });
  const c = ctx.out.color;
  for (const { file, result: r } of results) {
    ctx.out.print(
      `${c.bold(path.basename(file))}  ${r.image.width}×${r.image.height}  ${r.model.name}@${r.model.version}  ${r.detections.length} detection${r.detections.length === 1 ? '' : 's'}  ${r.timings.totalMs.toFixed(1)} ms`,
    );
    if (r.detections.length) {
      const n = (v: number): string => String(Math.round(v));
      ctx.out.print(table(['LABEL', 'SCORE', 'BOX (x1 y1 x2 y2)'], r.detections.map((d) => [d.label, d.score.toFixed(3), `${n(d.box.x1)} ${n(d.box.y1)} ${n(d.box.x2)} ${n(d.box.y2)}`]), c).replace(/^/gm, '  '));
    }
  }
}

export const detectCommand: CommandSpec = {
  path: ['detect'],
  summary: 'Detect the board (no argument), or the objects in images through the running daemon (IMAGE...).',
  description:
    'Without IMAGE: reads the host (or the tree given with --root) without changing anything — SoC, CUDA arch, L4T/JetPack, CUDA, cuDNN, TensorRT, cmake, plugin library. With --root no program from the tree is run: cmake is read from dpkg or usr/share/cmake-X.Y. See docs/detection.md. With IMAGE...: sends each JPEG/PNG to the daemon (POST /v1/detect on inference.host:port, with inference.token) and prints its detections; --json prints the API answer.',
  positionals: [{ name: 'IMAGE', variadic: true, description: 'JPEG or PNG files to run the serving model on.' }],
  options: {
    threshold: { type: 'string', arg: 'T', description: 'Images: minimum score in [0, 1] (default: the model package threshold).' },
    'max-detections': { type: 'string', arg: 'N', description: 'Images: at most N detections per image (default inference.maxDetections).' },
    model: { type: 'string', arg: 'NAME', description: 'Images: the model that must answer (the serving one; MODEL_NOT_FOUND otherwise).' },
  },
  examples: ['jetson-agent detect', 'jetson-agent detect --root test/fixtures/boards/nano-jp44 --json', 'jetson-agent detect samples/demo.jpg --threshold 0.3'],
  async run(ctx) {
    if (ctx.positionals.length > 0) return detectImages(ctx, ctx.positionals);
    for (const o of ['threshold', 'max-detections', 'model']) {
      if (ctx.options[o] !== undefined) throw new UsageError(`--${o} applies to images: \`jetson-agent detect IMAGE --${o} …\`.`);
    }
    const { paths } = await ctx.agent();
    const board = await detectBoard(paths, { env: ctx.env, signal: ctx.signal });
    ctx.out.result(board);
    ctx.out.print(formatBoard(board));
  },
};

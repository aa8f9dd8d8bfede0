import { AgentError } from '../core/errors.js';

/** MemAvailable now (platform/sysinfo.ts memory()), or null where the platform does not say. */
export type MemoryProbe = () => Promise<{ readonly availableBytes: number } | null>;

/** What a model is expected to take once loaded and warm. */
export interface MemoryEstimate {
  /** modelBytes + workspaceBytes. */
  readonly needBytes: number;
  /** Size of the file the engine loads: the ONNX model, or the TensorRT engine plan. */
  readonly modelBytes: number;
  /** Memory beyond the file that loading and warming up took, as measured on this board. */
  readonly workspaceBytes: number;
  /** Whose measurement `workspaceBytes` is: this very model's (loaded before), the serving model's, or none yet. */
  readonly workspaceFrom: 'this model' | 'the serving model' | 'none measured';
}

interface Footprint {
  readonly modelBytes: number;
  /** MemAvailable before load − after warm-up; null when it could not be read. */
  readonly measuredBytes: number | null;
}

const MiB = 1024 * 1024;
const mib = (b: number): string => `${(b / MiB).toFixed(b < 10 * MiB ? 1 : 0)} MiB`;

/**
 * What loaded models cost on this board, measured (MemAvailable drop from just before the
 * engine loads to just after its warm-up; on a Jetson CPU and GPU share that memory, so a
 * TensorRT engine in the trt-runner process counts too). Used to refuse, before anything is
 * unloaded, a model that cannot fit even with the serving model gone. The numbers are
 * estimates (other processes allocate and free meanwhile), so the check refuses only what
 * cannot fit by this estimate, and takes the optimistic side where it is unsure: the new
 * model's workspace defaults to what the serving model measured, the memory the serving model
 * frees to at least its file size.
 */
export class MemoryLedger {
  private readonly loaded = new WeakMap<object, Footprint>();
  private readonly workspace = new Map<string, number>();
  private lastWorkspace: number | null = null;

  /** After a successful load + warm-up of `runtime` (model key `name@version/backend`). */
  record(runtime: object, key: string, modelBytes: number, before: number | null, after: number | null): void {
    const measuredBytes = before !== null && after !== null ? Math.max(0, before - after) : null;
    this.loaded.set(runtime, { modelBytes, measuredBytes });
    if (measuredBytes === null) return;
    const ws = Math.max(0, measuredBytes - modelBytes);
    this.workspace.delete(key);
    this.workspace.set(key, ws);
    // Bounded: the oldest measurements go first (Map keeps insertion order).
    if (this.workspace.size > 64) this.workspace.delete(this.workspace.keys().next().value!);
    this.lastWorkspace = ws;
  }

  /** Expected memory of model `key` whose file has `modelBytes`. */
  estimate(key: string, modelBytes: number): MemoryEstimate {
    const own = this.workspace.get(key);
    const workspaceBytes = own ?? this.lastWorkspace ?? 0;
    const workspaceFrom = own !== undefined ? 'this model' : this.lastWorkspace !== null ? 'the serving model' : 'none measured';
    return { needBytes: modelBytes + workspaceBytes, modelBytes, workspaceBytes, workspaceFrom };
  }

  /** What unloading `runtime` gives back: its measured footprint, at least its file size. */
  freedBy(runtime: object | null): number {
    if (!runtime) return 0;
    const f = this.loaded.get(runtime);
    if (!f) return 0;
    return Math.max(f.modelBytes, f.measuredBytes ?? 0);
  }
}

/**
 * Refuses (MODEL_DOES_NOT_FIT) a model whose estimate exceeds what the board has even after
 * the serving model is unloaded: MemAvailable now + what the serving model frees. Pure.
 */
export function checkFits(model: string, e: MemoryEstimate, availableBytes: number, freedBytes: number, serving: string | null): void {
  const room = availableBytes + freedBytes;
  if (e.needBytes <= room) return;
  const ws = e.workspaceFrom === 'none measured' ? 'no workspace measured yet' : `${mib(e.workspaceBytes)} workspace as measured for ${e.workspaceFrom}`;
  const without = serving ? `${mib(availableBytes)} available now + ${mib(freedBytes)} that unloading ${serving} would free` : `${mib(availableBytes)} available`;
  throw new AgentError('MODEL_DOES_NOT_FIT', `Model ${model} needs about ${mib(e.needBytes)} (${mib(e.modelBytes)} model file + ${ws}), but the board has only ${mib(room)} (${without}). Nothing was unloaded${serving ? `; ${serving} keeps serving` : ''}.`, {
    hint: 'Free memory on the board (stop other processes, add swap), or package a smaller model (lower precision, smaller input or maxBatch), then activate again.',
    details: { needBytes: e.needBytes, modelBytes: e.modelBytes, workspaceBytes: e.workspaceBytes, workspaceFrom: e.workspaceFrom, availableBytes, freedBytes },
  });
}

import { AgentError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { spawnPiped, type PipedProcess } from '../../platform/spawn.js';
import type { Engine, EngineInfo, EngineOutputs } from '../engine.js';
import { decodeError, decodeResult, encodeFrame, encodeInfer, FrameReader, FrameType, type Hello } from './protocol.js';

export interface RunnerEngineOptions {
  /** The trt-runner binary (or a test double speaking the same protocol). */
  readonly runnerPath: string;
  readonly enginePath: string;
  readonly inputShape: readonly [number, number, number];
  readonly maxBatch: number;
  readonly requestTimeoutMs: number;
  /** Wait for HELLO this long (engine deserialization can take seconds on a Nano). */
  readonly startTimeoutMs: number;
  /** Restart backoff: first delay, doubled per consecutive crash, capped. */
  readonly restartBackoffMs: readonly [number, number];
  readonly log: Logger;
  readonly spawn?: typeof spawnPiped;
}

interface Pending {
  resolve(o: EngineOutputs): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * TensorRT backend: a supervised `trt-runner` process serving one engine over the framed
 * stdio protocol (protocol.ts). Never blocks the event loop; one request in flight at a time
 * (TensorRT execution contexts are not re-entrant); crashes fail the in-flight request with
 * ENGINE_FAILED and restart the runner with backoff; a request past its deadline is TIMEOUT
 * and the runner is restarted (it may be wedged).
 */
export class RunnerEngine implements Engine {
  info: EngineInfo;
  private proc: PipedProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;
  private crashes = 0;
  private ready: Promise<void> | undefined;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: RunnerEngineOptions) {
    this.info = { backend: 'tensorrt', inputName: 'Input', inputShape: o.inputShape, outputNames: [], maxBatch: o.maxBatch, concurrency: 1 };
  }

  load(): Promise<void> {
    this.stopping = false;
    return this.start();
  }

  private start(): Promise<void> {
    const spawn = this.o.spawn ?? spawnPiped;
    const proc = spawn(this.o.runnerPath, ['--engine', this.o.enginePath]);
    this.proc = proc;
    const reader = new FrameReader();
    let helloResolve: (() => void) | undefined;
    let helloReject: ((e: Error) => void) | undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      helloResolve = resolve;
      helloReject = reject;
    });
    const startTimer = setTimeout(() => {
      helloReject?.(new AgentError('ENGINE_FAILED', `trt-runner did not report its tensors within ${this.o.startTimeoutMs} ms.`));
      proc.kill('SIGKILL');
    }, this.o.startTimeoutMs);
    let stderrTail = '';
    proc.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderrTail = (stderrTail + text).slice(-2000);
      for (const line of text.split('\n')) if (line.trim()) this.o.log.info({ runner: line.trim() }, 'trt-runner');
    });
    proc.stdout.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (err) {
        this.o.log.error({ err }, 'trt-runner protocol error; restarting it');
        this.awaitRestart(proc);
        proc.kill('SIGKILL');
        return;
      }
      for (const f of frames) {
        if (f.type === FrameType.HELLO) {
          clearTimeout(startTimer);
          const hello = JSON.parse(f.payload.toString('utf8')) as Hello;
          this.info = { ...this.info, inputName: hello.inputs[0]?.name ?? 'Input', outputNames: hello.outputs.map((t) => t.name) };
          this.crashes = 0;
          helloResolve?.();
        } else if (f.type === FrameType.RESULT) {
          const r = decodeResult(f.payload);
          this.settle(r.id, (p) => p.resolve(Object.fromEntries(r.tensors.map((t) => [t.name, { dims: t.dims, data: t.data }]))));
        } else if (f.type === FrameType.ERROR) {
          const e = decodeError(f.payload);
          if (e.id === 0) helloReject?.(new AgentError('ENGINE_FAILED', `trt-runner: ${e.message}`));
          else this.settle(e.id, (p) => p.reject(new AgentError('ENGINE_FAILED', `trt-runner: ${e.message}`)));
        }
      }
    });
    proc.onError((err) => helloReject?.(new AgentError('ENGINE_FAILED', `trt-runner could not start: ${err.message}`, { cause: err })));
    proc.onExit((code, signal) => {
      clearTimeout(startTimer);
      helloReject?.(new AgentError('ENGINE_FAILED', `trt-runner exited (${code ?? signal}) before it was ready. ${stderrTail.trim().split('\n').pop() ?? ''}`.trim()));
      for (const [id] of this.pending) this.settle(id, (p) => p.reject(new AgentError('ENGINE_FAILED', `trt-runner exited (${code ?? signal}) during inference.`)));
      if (this.stopping || (this.proc !== undefined && this.proc !== proc)) return;
      this.proc = undefined;
      const [first, cap] = this.o.restartBackoffMs;
      const delay = Math.min(cap, first * 2 ** this.crashes++);
      this.o.log.warn({ code, signal, restartInMs: delay }, 'trt-runner exited; restarting');
      this.ready = new Promise<void>((resolve) => {
        setTimeout(() => {
          if (this.stopping) return resolve();
          this.start().then(resolve, (err: unknown) => {
            this.o.log.error({ err }, 'trt-runner restart failed');
            resolve();
          });
        }, delay);
      });
    });
    this.exited = new Promise<void>((r) => proc.onExit(() => r()));
    return this.ready;
  }

  private exited: Promise<void> = Promise.resolve();

  /** After killing a wedged runner: requests wait for the restart the exit handler schedules. */
  private awaitRestart(proc: PipedProcess): void {
    if (this.proc !== proc) return;
    this.proc = undefined;
    const waiting: Promise<void> = this.exited.then(() => (this.ready === waiting ? undefined : this.ready));
    this.ready = waiting;
  }

  private settle(id: number, fn: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    fn(p);
  }

  warmup(runs: number): Promise<void> {
    const [c, h, w] = this.o.inputShape;
    let chain = Promise.resolve();
    for (let i = 0; i < runs; i++) chain = chain.then(() => this.infer(new Float32Array(c * h * w), 1).then(() => undefined));
    return chain;
  }

  infer(input: Float32Array, batch: number): Promise<EngineOutputs> {
    const run = this.busy.then(() => this.send(input, batch));
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async send(input: Float32Array, batch: number): Promise<EngineOutputs> {
    await this.ready;
    const proc = this.proc;
    if (!proc || this.stopping) throw new AgentError('ENGINE_FAILED', 'trt-runner is not running.');
    const id = this.nextId++;
    return new Promise<EngineOutputs>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id, (p) => p.reject(new AgentError('TIMEOUT', `trt-runner did not answer within ${this.o.requestTimeoutMs} ms; restarting it.`)));
        this.awaitRestart(proc);
        proc.kill('SIGKILL');
      }, this.o.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      proc.stdin.write(encodeInfer(id, batch, input));
    });
  }

  async unload(): Promise<void> {
    this.stopping = true;
    const proc = this.proc;
    this.proc = undefined;
    if (!proc) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        resolve();
      }, 5000);
      proc.onExit(() => {
        clearTimeout(timer);
        resolve();
      });
      try {
        proc.stdin.end(encodeFrame(FrameType.SHUTDOWN));
      } catch {
        proc.kill('SIGKILL');
      }
    });
  }
}

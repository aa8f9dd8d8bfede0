import { AgentError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { spawnPiped, type PipedProcess } from '../../platform/spawn.js';
import type { Engine, EngineInfo, EngineOutputs } from '../engine.js';
import { encodeElements, toTensorData } from './dtypes.js';
import { decodeError, decodeResult, encodeFrame, encodeInfer, FrameReader, FrameType, parseHello, type Hello, type RunnerError, type TensorDesc } from './protocol.js';

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

/** An ERROR frame as an AgentError: the runner's stable code is kept in details.runnerCode. */
function runnerFailure(e: RunnerError): AgentError {
  return new AgentError('ENGINE_FAILED', `trt-runner${e.code ? ` [${e.code}]` : ''}: ${e.message}`, { details: { runnerCode: e.code } });
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
  /** The engine's one input, as HELLO described it. */
  private input: TensorDesc | undefined;

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
    // A runner that exits (fatal ERROR, crash) makes writes to its stdin fail with EPIPE; the
    // exit handler reports and restarts, so the stream error itself is only logged. Unhandled,
    // it would take the whole agent down.
    proc.stdin.on('error', (err: Error) => this.o.log.debug({ err }, 'trt-runner stdin closed'));
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
          let hello: Hello;
          try {
            hello = parseHello(f.payload);
            this.input = this.checkHello(hello);
          } catch (err) {
            const e = err instanceof AgentError ? err : new AgentError('ENGINE_FAILED', `trt-runner: ${(err as Error).message}.`, { hint: 'Rebuild the runner for this agent with `jetson-agent runner build --force`.' });
            helloReject?.(e);
            this.stopping = true;
            proc.kill('SIGKILL');
            continue;
          }
          this.info = { ...this.info, inputName: this.input.name, outputNames: hello.outputs.map((t) => t.name) };
          this.crashes = 0;
          helloResolve?.();
        } else if (f.type === FrameType.RESULT) {
          let outputs: EngineOutputs | Error;
          let id: number;
          try {
            const r = decodeResult(f.payload);
            id = r.id;
            try {
              outputs = Object.fromEntries(r.tensors.map((t) => [t.name, toTensorData(t)]));
            } catch (err) {
              outputs = new AgentError('ENGINE_FAILED', `trt-runner: ${(err as Error).message}.`);
            }
          } catch (err) {
            this.o.log.error({ err }, 'trt-runner sent a malformed RESULT; restarting it');
            this.awaitRestart(proc);
            proc.kill('SIGKILL');
            return;
          }
          this.settle(id, (p) => (outputs instanceof Error ? p.reject(outputs) : p.resolve(outputs)));
        } else if (f.type === FrameType.ERROR) {
          const e = decodeError(f.payload);
          if (e.id === 0) helloReject?.(runnerFailure(e));
          else this.settle(e.id, (p) => p.reject(runnerFailure(e)));
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

  /**
   * The agent feeds one NCHW image batch: the engine must have exactly one input whose
   * non-batch dims are the model's [C, H, W] (a -1 there takes the model's value).
   */
  private checkHello(h: Hello): TensorDesc {
    const [input, ...more] = h.inputs;
    if (!input || more.length > 0) {
      throw new AgentError('ENGINE_FAILED', `The engine has ${h.inputs.length} inputs (${h.inputs.map((t) => t.name).join(', ')}); the agent feeds exactly one image tensor.`, {
        hint: 'Export the model with a single NCHW image input.',
      });
    }
    const want = this.o.inputShape;
    const dims = input.dims;
    const fits = dims.length === 4 && dims.slice(1).every((d, i) => d === -1 || d === want[i]);
    if (!fits) {
      throw new AgentError('ENGINE_FAILED', `Engine input ${input.name} is [${dims.join(',')}] but the model is [batch,${want.join(',')}].`, {
        hint: 'Rebuild the engine from this package (convert), or fix input in model.json.',
      });
    }
    return input;
  }

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
    const desc = this.input;
    if (!proc || !desc || this.stopping) throw new AgentError('ENGINE_FAILED', 'trt-runner is not running.');
    const [c, h, w] = this.o.inputShape;
    if (input.length !== batch * c * h * w) throw new AgentError('INTERNAL', `input of ${input.length} values is not ${batch}×${c}×${h}×${w}`);
    // The shape the request really has; the runner checks it against the engine and TensorRT resolves the outputs from it.
    const tensor = { name: desc.name, dtype: desc.dtype, dims: [batch, c, h, w], bytes: encodeElements(input, desc.dtype) };
    const id = this.nextId++;
    return new Promise<EngineOutputs>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id, (p) => p.reject(new AgentError('TIMEOUT', `trt-runner did not answer within ${this.o.requestTimeoutMs} ms; restarting it.`)));
        this.awaitRestart(proc);
        proc.kill('SIGKILL');
      }, this.o.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      proc.stdin.write(encodeInfer(id, [tensor]));
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

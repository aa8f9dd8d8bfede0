import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { generateYoloV3Onnx } from '../../agent/src/models/onnx/generate.js';
import { unknownOperator } from './onnx-faults.js';
import type { DeploymentReport } from '../../agent/src/core/contracts/deployment.js';
import { startAgent, type AgentProcess } from './agent-process.js';
import { FLEET_JS, runCli } from './cli.js';
import { FleetRig } from './fleet-rig.js';
import { Mosquitto, PREFIX } from './mosquitto.js';
import { Watcher } from './mqtt-watch.js';
import { PackageServer } from './package-server.js';

/** Tiny TAO-YOLOv3 input (3×96×160): real ONNX Runtime work, small enough for several agents on 2 cores. */
export const TINY = { height: 96, width: 160 } as const;

/** A generated model, or (broken) the same graph with its first Conv renamed to an operator ONNX Runtime does not know: intake and conversion accept it, warm-up fails. */
export function tinyOnnx(seed: number, broken = false): Uint8Array {
  const bytes = generateYoloV3Onnx({ ...TINY, classes: 2, seed, scoreThreshold: 0.001 });
  return broken ? unknownOperator(bytes) : bytes;
}

/** Golden images for `package create --golden` (written to a directory with expected.json). */
export interface GoldenInput {
  readonly cases: readonly { readonly file: string; readonly image: Buffer; readonly detections: readonly unknown[] }[];
  readonly iouTolerance?: number;
  readonly scoreTolerance?: number;
}

/** `jetson-fleet package create` over a generated model; returns the tar path and bytes. */
export async function tinyPackage(dir: string, name: string, version: string, onnx: Uint8Array, golden?: GoldenInput): Promise<{ file: string; body: Buffer }> {
  const model = path.join(dir, `${name}-${version}.onnx`);
  writeFileSync(model, onnx);
  const file = path.join(dir, `${name}-${version}.tar`);
  const args = ['package', 'create', '--model', model, '--name', name, '--version', version, '--network', 'yolov3', '--classes', 'person,car', '--input', `3,${TINY.height},${TINY.width}`, '--precision', 'fp32', '--out', file];
  if (golden) {
    const g = path.join(dir, `golden-${name}-${version}`);
    mkdirSync(g, { recursive: true });
    for (const c of golden.cases) writeFileSync(path.join(g, c.file), c.image);
    const expected = { ...golden, cases: golden.cases.map((c) => ({ image: c.file, detections: c.detections })) };
    writeFileSync(path.join(g, 'expected.json'), JSON.stringify(expected));
    args.push('--golden', g);
  }
  const r = await runCli(args, { script: FLEET_JS });
  if (r.code !== 0) throw new Error(`package create failed: ${r.stderr}`);
  return { file, body: readFileSync(file) };
}

export interface AgentConfigInput {
  readonly deviceId: string;
  readonly groups: readonly string[];
  readonly brokerUrl: string;
  readonly password: string;
  /** Trusted fleet keys (rollout.fleetPublicKeys). */
  readonly keys: readonly { keyId: string; publicKey: string }[];
  readonly healthIntervalSec?: number;
  /** Extra top-level config keys merged over these (e.g. rollout deadlines). */
  readonly extra?: Record<string, unknown>;
}

/** The YAML config of one test agent: its own device id and broker account, port 0, one ORT thread, quick health. */
export function agentConfigYaml(c: AgentConfigInput): string {
  return stringify({
    deviceId: c.deviceId,
    groups: [...c.groups],
    mqtt: { url: c.brokerUrl, username: c.deviceId, password: c.password },
    inference: { port: 0, intraOpThreads: 1 },
    health: { intervalSec: c.healthIntervalSec ?? 1 },
    rollout: { fleetPublicKeys: c.keys.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey })) },
    ...c.extra,
  });
}

/** What RealFleet needs from a tap test: a fresh directory and teardown. */
export interface TestScope {
  testdir(): string;
  teardown(fn: () => unknown): void;
}

const passwordOf = (id: string): string => `${id}-secret`;
const TERMINAL = ['active', 'failed', 'rejected', 'rolled_back', 'superseded', 'canceled'];

/** One real `jetson-agent run` process with its own state dir and config, restartable. */
export class RealDevice {
  agent: AgentProcess | undefined;
  constructor(
    readonly id: string,
    readonly dir: string,
  ) {}

  get config(): string {
    return path.join(this.dir, 'config.yaml');
  }

  start(): AgentProcess {
    this.agent = startAgent(['--config', this.config, '--state-dir', path.join(this.dir, 'state')]);
    return this.agent;
  }

  /** SIGTERM and wait: the agent leaves a retained offline status. */
  async stop(): Promise<number | null> {
    const a = this.agent;
    if (!a || a.child.exitCode !== null) return a?.child.exitCode ?? null;
    a.child.kill('SIGTERM');
    return a.exited;
  }

  /** The model the inference endpoint serves now. */
  async serving(): Promise<string> {
    if (!this.agent) throw new Error(`${this.id} is not running`);
    const res = await fetch(`http://127.0.0.1:${await this.agent.port()}/v1/models`);
    const body = (await res.json()) as { active: { name: string; version: string } | null };
    return body.active ? `${body.active.name}@${body.active.version}` : 'none';
  }
}

/**
 * Several REAL agents (separate `jetson-agent run` processes, ONNX Runtime path) on one real
 * mosquitto with a per-device account and the `%u` ACL, a package server, fleet keys made by
 * `jetson-fleet keys generate`, and a watcher that records every device message (bounded waits
 * print it when they run out). Everything is torn down with the test.
 */
export class RealFleet {
  readonly devices = new Map<string, RealDevice>();
  private constructor(
    readonly dir: string,
    readonly broker: Mosquitto,
    readonly pkgs: PackageServer,
    readonly rig: FleetRig,
    readonly watch: Watcher,
    readonly keys: { keyId: string; key: string; pub: string; publicKey: string },
  ) {}

  static async create(t: TestScope, devices: readonly { id: string; groups: readonly string[] }[]): Promise<RealFleet> {
    const dir = t.testdir();
    const broker = await new Mosquitto({ users: Object.fromEntries(devices.map((d) => [d.id, passwordOf(d.id)])) }).start();
    t.teardown(() => broker.close());
    const pkgs = await new PackageServer().start();
    t.teardown(() => pkgs.close());
    const rig = new FleetRig(broker, dir);
    const keys = await rig.makeKeys();
    const watch = await Watcher.connect(broker.controllerUrl, [`${PREFIX}/devices/#`]);
    t.teardown(() => watch.close());
    const fleet = new RealFleet(dir, broker, pkgs, rig, watch, keys);
    for (const d of devices) {
      const ddir = path.join(dir, d.id);
      mkdirSync(path.join(ddir, 'state'), { recursive: true });
      writeFileSync(
        path.join(ddir, 'config.yaml'),
        agentConfigYaml({ deviceId: d.id, groups: d.groups, brokerUrl: broker.url, password: passwordOf(d.id), keys: [{ keyId: keys.keyId, publicKey: readFileSync(keys.pub, 'utf8') }] }),
      );
      fleet.devices.set(d.id, new RealDevice(d.id, ddir));
    }
    // Teardown: SIGKILL whatever still runs (a passing test stops its agents itself when it needs to).
    t.teardown(() => {
      for (const d of fleet.devices.values()) d.agent?.kill();
    });
    return fleet;
  }

  device(id: string): RealDevice {
    const d = this.devices.get(id);
    if (!d) throw new Error(`no device ${id}`);
    return d;
  }

  /** Start agents and wait until each serves its first model and says online (retained status + health). */
  async start(ids: readonly string[] = [...this.devices.keys()]): Promise<void> {
    const since = this.watch.seen.length;
    for (const id of ids) this.device(id).start();
    for (const id of ids) {
      const d = this.device(id);
      await d.agent?.waitLog(/"msg":"model activated"/);
      await this.within(
        this.watch.waitFor((m) => this.watch.seen.indexOf(m) >= since && m.topic === `${PREFIX}/devices/${id}/status` && m.json<{ state: string }>().state === 'online'),
        `online status of ${id}`,
      );
      await this.within(this.watch.waitFor((m) => this.watch.seen.indexOf(m) >= since && m.topic === `${PREFIX}/devices/${id}/health`), `health of ${id}`);
    }
  }

  /** Package from a generated model, served by the package server; returns a signed manifest made by `manifest create`. */
  async manifest(o: { version: string; seed: number; broken?: boolean; key?: string; deploymentId: string; probation?: string }): Promise<{ file: string; deploymentId: string }> {
    const pkg = await tinyPackage(this.dir, 'small', o.version, tinyOnnx(o.seed, o.broken));
    const url = this.pkgs.add(`/small-${o.version}.tar`, pkg.body);
    const file = path.join(this.dir, `${o.deploymentId}.json`);
    const r = await runCli(['manifest', 'create', '--package', pkg.file, '--url', url, '--key', o.key ?? this.keys.key, '--out', file, '--deployment-id', o.deploymentId, '--probation', o.probation ?? '1s'], { script: FLEET_JS });
    if (r.code !== 0) throw new Error(`manifest create failed: ${r.stderr}`);
    return { file, deploymentId: o.deploymentId };
  }

  /** Waits for a deployment report of `id` (seen or arriving) that matches. */
  reportWhere(id: string, pred: (r: DeploymentReport) => boolean, what: string, ms = 120_000): Promise<DeploymentReport> {
    return this.within(
      this.watch.waitFor((m) => m.topic === `${PREFIX}/devices/${id}/deployment` && m.body !== '' && pred(m.json<DeploymentReport>())).then((m) => m.json<DeploymentReport>()),
      `${what} from ${id}`,
      ms,
    );
  }

  /** Waits for a terminal report of `deploymentId` from `id`. */
  terminal(id: string, deploymentId: string, ms = 120_000): Promise<DeploymentReport> {
    return this.reportWhere(id, (r) => r.deploymentId === deploymentId && TERMINAL.includes(r.state), `terminal report of ${deploymentId}`, ms);
  }

  /** Bounded wait that, when it runs out, shows the device reports and the agents' log tails. */
  within<T>(p: Promise<T>, what: string, ms = 120_000): Promise<T> {
    return Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no ${what} within ${ms} ms\n${this.diagnostics()}`)), ms).unref(),
      ),
    ]);
  }

  diagnostics(): string {
    const reports = this.watch.seen.filter((m) => m.topic.endsWith('/deployment')).map((m) => `${m.topic}: ${m.body}`);
    const logs = [...this.devices.values()].map((d) => `--- ${d.id} log tail:\n${d.agent?.log().slice(-2500) ?? '(not started)'}`);
    return `deployment reports:\n${reports.join('\n')}\n${logs.join('\n')}`;
  }
}

import path from 'node:path';
import { readFileSync } from 'node:fs';
import { KeyRing } from '../../agent/src/core/envelope.js';
import { FleetSession } from '../../agent/src/fleet/fleet-session.js';
import { SimulatedFleet, type SimFleetOptions } from '../../agent/src/fleet/simulator/fleet.js';
import { fleetBusFactory } from '../../agent/src/mqtt/fleet-bus.js';
import { FLEET_JS, runCli, type CliResult } from './cli.js';
import { makeModelPackage } from './model-package.js';
import { CONTROLLER, PREFIX, type Mosquitto } from './mosquitto.js';

/** Keys, manifests, SIMULATED devices and controller CLI runs against one real mosquitto. */
export class FleetRig {
  keys: { keyId: string; key: string; pub: string; publicKey: string } | undefined;
  constructor(
    readonly broker: Mosquitto,
    readonly dir: string,
  ) {}

  get connect() {
    return fleetBusFactory({ url: this.broker.controllerUrl, username: CONTROLLER.username, password: CONTROLLER.password });
  }

  brokerArgs(): string[] {
    return ['--broker', this.broker.controllerUrl, '--username', CONTROLLER.username, '--password', CONTROLLER.password, '--topic-prefix', PREFIX];
  }

  async makeKeys(name = 'fleet'): Promise<{ keyId: string; key: string; pub: string; publicKey: string }> {
    const r = await runCli(['keys', 'generate', '--out', path.join(this.dir, 'keys'), '--name', name, '--json'], { script: FLEET_JS });
    const j = JSON.parse(r.stdout) as { keyId: string; privateKeyPath: string; publicKeyPath: string; publicKey: string };
    const k = { keyId: j.keyId, key: j.privateKeyPath, pub: j.publicKeyPath, publicKey: j.publicKey };
    this.keys ??= k;
    return k;
  }

  async manifest(version: string, key: string, extra: string[] = []): Promise<{ file: string; deploymentId: string }> {
    const pkg = await makeModelPackage(this.dir, 'peoplenet', version);
    const file = path.join(this.dir, `m-${version}.json`);
    const deploymentId = `peoplenet-${version.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    const r = await runCli(['manifest', 'create', '--package', pkg, '--url', `https://pkg.example/${version}.tar`, '--key', key, '--out', file, '--deployment-id', deploymentId, ...extra], { script: FLEET_JS });
    if (r.code !== 0) throw new Error(r.stderr);
    return { file, deploymentId };
  }

  async simulate(o: Partial<SimFleetOptions> & { count: number }): Promise<SimulatedFleet> {
    if (!this.keys) throw new Error('makeKeys first');
    const fleet = new SimulatedFleet({
      group: 'lab', prefix: PREFIX, keys: new KeyRing([{ keyId: this.keys.keyId, publicKey: readFileSync(this.keys.pub, 'utf8') }]),
      connect: this.connect, failRate: 0, offlineRate: 0, stepDelayMs: 10, ...o,
    });
    await fleet.start();
    return fleet;
  }

  fleet(args: string[], timeoutMs = 60000): Promise<CliResult> {
    return runCli([...args, ...this.brokerArgs()], { script: FLEET_JS, timeoutMs });
  }

  /** A controller-side session (retained device messages + rollout records) for assertions. */
  session(rollout = '+'): Promise<FleetSession> {
    return FleetSession.open(this.connect, PREFIX, { devices: true, rollout });
  }
}

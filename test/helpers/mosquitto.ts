import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A REAL mosquitto 2.0.x for tests (docs/reference/design-rules.md "Testing"), configured as docs/mqtt.md "Broker setup" says:
 * a DEVICE listener (`url`, and `tlsUrl` with `tls`) whose password file holds only device
 * accounts and which replaces every client id with the user name (`use_username_as_clientid`),
 * so no credential can take another device's client id and knock it off; and a CONTROLLER
 * listener (`controllerUrl`) whose password file holds only the controller account (any client
 * id: jetson-fleet opens several connections at once). Pattern ACL with `%u` so a device can
 * only write its own topics (docs/reference/mqtt-broker.md "mosquitto ACLs"); optional TLS listener with a test CA made by
 * openssl. Killed in teardown. Retained messages and sessions persist across restart().
 */
export const PREFIX = 'jetson/v1';
export const CONTROLLER = { username: 'fleet-controller', password: 'controller-secret' };

/** Device ACL of docs/mqtt.md: a device writes only its own topics, reads its commands. */
export function deviceAcl(prefix = PREFIX): string {
  return [
    `user ${CONTROLLER.username}`,
    `topic readwrite ${prefix}/#`,
    '',
    `pattern write ${prefix}/devices/%u/status`,
    `pattern write ${prefix}/devices/%u/health`,
    `pattern write ${prefix}/devices/%u/deployment`,
    `pattern write ${prefix}/devices/%u/events`,
    `pattern write ${prefix}/devices/%u/response/+`,
    `pattern read ${prefix}/devices/%u/desired`,
    `pattern read ${prefix}/devices/%u/request/+`,
    `pattern read ${prefix}/groups/+/desired`,
    '',
  ].join('\n');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface TestCa {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
}

/** Test CA + server certificate for 127.0.0.1/localhost, made by openssl (EC P-256, 1 day). */
export function makeTestCa(dir: string): TestCa {
  const f = (n: string): string => path.join(dir, n);
  const ossl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-subj', '/CN=jetson-test-ca', '-days', '1');
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ossl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '1', '-extfile', f('san.ext'));
  return { dir, caCert: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key') };
}

/** A client certificate with subject CN=`cn`, signed by the test CA (EC P-256, 1 day). */
export function makeClientCert(ca: TestCa, cn: string): { cert: string; key: string } {
  const f = (n: string): string => path.join(ca.dir, `${cn}.${n}`);
  const ossl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('key'), '-out', f('csr'), '-subj', `/CN=${cn}`);
  ossl('x509', '-req', '-in', f('csr'), '-CA', ca.caCert, '-CAkey', path.join(ca.dir, 'ca.key'), '-CAcreateserial', '-out', f('crt'), '-days', '1');
  return { cert: f('crt'), key: f('key') };
}

export interface MosquittoOptions {
  /** Device accounts, username → password (the controller account lives on its own listener). */
  readonly users?: Readonly<Record<string, string>>;
  readonly acl?: string;
  readonly tls?: boolean;
  /** More mosquitto.conf lines (e.g. a bridge to another broker). */
  readonly extraConfig?: readonly string[];
  /**
   * With `tls`: the TLS device listener requires a client certificate signed by the test CA and
   * takes its CN as user name and client id (`use_identity_as_username` +
   * `use_username_as_clientid`); no password there.
   */
  readonly clientCerts?: boolean;
  /**
   * The device listener as shipped before issue #14: no `use_username_as_clientid`, one password
   * file for devices and controller. Only the test that shows the client id theft uses it.
   */
  readonly legacyClientIds?: boolean;
}

export class Mosquitto {
  readonly dir: string;
  port = 0;
  tlsPort = 0;
  controllerPort = 0;
  ca: TestCa | undefined;
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  log = '';

  constructor(private readonly opts: MosquittoOptions = {}) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'mosq-'));
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** Where controllers (jetson-fleet, test watchers) connect. */
  get controllerUrl(): string {
    return `mqtt://127.0.0.1:${this.controllerPort}`;
  }

  get tlsUrl(): string {
    return `mqtts://127.0.0.1:${this.tlsPort}`;
  }

  async start(): Promise<this> {
    if (this.port === 0) {
      this.port = await freePort();
      this.controllerPort = await freePort();
      if (this.opts.tls) {
        this.tlsPort = await freePort();
        this.ca = makeTestCa(this.dir);
      }
      const legacy = this.opts.legacyClientIds === true;
      const passwd = (file: string, users: Readonly<Record<string, string>>): string => {
        const f = path.join(this.dir, file);
        writeFileSync(f, '');
        for (const [u, p] of Object.entries(users)) execFileSync('mosquitto_passwd', ['-b', f, u, p], { stdio: 'pipe' });
        return f;
      };
      const controllers = { [CONTROLLER.username]: CONTROLLER.password };
      const devicesFile = passwd('passwd-devices', legacy ? { ...controllers, ...(this.opts.users ?? {}) } : (this.opts.users ?? {}));
      const controllerFile = passwd('passwd-controller', controllers);
      const acl = path.join(this.dir, 'acl');
      writeFileSync(acl, this.opts.acl ?? deviceAcl());
      const auth = (passwords: string): string[] => ['allow_anonymous false', `password_file ${passwords}`, `acl_file ${acl}`];
      const deviceListener = [...auth(devicesFile), ...(legacy ? [] : ['use_username_as_clientid true'])];
      const conf = [
        'user root',
        'per_listener_settings true',
        'persistence true',
        `persistence_location ${this.dir}/`,
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        'log_type notice',
        'log_type information',
        `listener ${this.port} 127.0.0.1`,
        ...deviceListener,
        `listener ${this.controllerPort} 127.0.0.1`,
        ...auth(controllerFile),
        ...(this.ca
          ? [
              `listener ${this.tlsPort} 127.0.0.1`,
              ...(this.opts.clientCerts
                ? ['allow_anonymous false', `acl_file ${acl}`, 'require_certificate true', 'use_identity_as_username true', 'use_username_as_clientid true']
                : deviceListener),
              `cafile ${this.ca.caCert}`,
              `certfile ${this.ca.serverCert}`,
              `keyfile ${this.ca.serverKey}`,
              'tls_version tlsv1.2',
            ]
          : []),
        ...(this.opts.extraConfig ?? []),
        '',
      ].join('\n');
      writeFileSync(path.join(this.dir, 'mosquitto.conf'), conf);
    }
    const proc = spawn('mosquitto', ['-c', path.join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    // Never leave a broker behind when the test process ends without its teardown.
    const reap = (): void => void proc.kill('SIGKILL');
    process.once('exit', reap);
    proc.once('exit', () => process.off('exit', reap));
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      const onData = (d: Buffer): void => {
        buf += d.toString();
        this.log += d.toString();
        if (/mosquitto version \S+ running/.test(buf)) resolve();
      };
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`mosquitto exited (${String(code)}) before it was ready:\n${buf}`)));
    });
    return this;
  }

  /** SIGTERM and wait (mosquitto saves its persistence file on exit). */
  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A REAL mosquitto 2.0.x for tests (DESIGN §9): started on free ports with a generated config,
 * password file (mosquitto_passwd), pattern ACL with `%u` so a device can only write its own
 * topics (operations.md §7.1), optional TLS listener with a test CA made by openssl.
 * Killed in teardown. Retained messages and sessions persist across restart().
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

export interface MosquittoOptions {
  /** username → password; the controller account is always added. */
  readonly users?: Readonly<Record<string, string>>;
  readonly acl?: string;
  readonly tls?: boolean;
  /** More mosquitto.conf lines (e.g. a bridge to another broker). */
  readonly extraConfig?: readonly string[];
}

export class Mosquitto {
  readonly dir: string;
  port = 0;
  tlsPort = 0;
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

  get tlsUrl(): string {
    return `mqtts://127.0.0.1:${this.tlsPort}`;
  }

  async start(): Promise<this> {
    if (this.port === 0) {
      this.port = await freePort();
      if (this.opts.tls) {
        this.tlsPort = await freePort();
        this.ca = makeTestCa(this.dir);
      }
      const passwd = path.join(this.dir, 'passwd');
      const users = { [CONTROLLER.username]: CONTROLLER.password, ...(this.opts.users ?? {}) };
      let first = true;
      for (const [u, p] of Object.entries(users)) {
        execFileSync('mosquitto_passwd', [...(first ? ['-c'] : []), '-b', passwd, u, p], { stdio: 'pipe' });
        first = false;
      }
      writeFileSync(path.join(this.dir, 'acl'), this.opts.acl ?? deviceAcl());
      const conf = [
        'user root',
        'per_listener_settings false',
        'allow_anonymous false',
        `password_file ${passwd}`,
        `acl_file ${path.join(this.dir, 'acl')}`,
        'persistence true',
        `persistence_location ${this.dir}/`,
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        'log_type notice',
        'log_type information',
        `listener ${this.port} 127.0.0.1`,
        ...(this.ca
          ? [`listener ${this.tlsPort} 127.0.0.1`, `cafile ${this.ca.caCert}`, `certfile ${this.ca.serverCert}`, `keyfile ${this.ca.serverKey}`, 'tls_version tlsv1.2']
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

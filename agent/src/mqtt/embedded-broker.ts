import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { AgentError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Component } from '../core/lifecycle.js';
import { disableMqttPacketNumberCache } from './packet-cache.js';

disableMqttPacketNumberCache();

/**
 * Standalone mode (issue #6 §2): with no `mqtt.url` the agent runs aedes 1.2.0 on
 * 127.0.0.1:1883 so one board or a laptop works alone and `jetson-fleet` can talk to it.
 * aedes 1.x speaks MQTT 3.1.1 only (docs/reference/mqtt-broker.md "aedes": v5 CONNACK "Unacceptable protocol
 * version"), has in-memory persistence and no auth: not for fleets (docs/mqtt.md).
 */
export interface EmbeddedBrokerOptions {
  readonly host: string;
  /** 0 = any free port (tests). */
  readonly port: number;
  readonly log: Logger;
}

export class EmbeddedBroker implements Component {
  readonly name = 'mqtt-embedded-broker';
  private server: Server | undefined;
  private broker: Aedes | undefined;
  private boundPort: number | undefined;

  constructor(private readonly opts: EmbeddedBrokerOptions) {}

  /** mqtt://host:port once started. */
  get url(): string {
    if (this.boundPort === undefined) throw new Error('embedded broker not started');
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    return `mqtt://${host === '0.0.0.0' ? '127.0.0.1' : host}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    const broker = await Aedes.createBroker({ drainTimeout: 5000, maxClientsIdLength: 128 });
    this.broker = broker;
    const server = createServer(broker.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(
          new AgentError(
            'MQTT_BROKER_PORT_IN_USE',
            `The embedded MQTT broker cannot listen on ${this.opts.host}:${this.opts.port} (${err.code ?? err.message}).`,
            {
              hint: 'Another broker may already run there: set mqtt.embedded.port (env JETSON_AGENT_MQTT_EMBEDDED_PORT) to a free port, or set mqtt.url to use that broker.',
              cause: err,
              details: { host: this.opts.host, port: this.opts.port },
            },
          ),
        );
      };
      server.once('error', onError);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', onError);
        resolve();
      });
    }).catch(async (err: unknown) => {
      await new Promise<void>((r) => broker.close(() => r()));
      throw err;
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.opts.log.info({ url: this.url }, 'embedded MQTT broker listening (standalone mode, MQTT 3.1.1, no auth: not for fleets)');
  }

  async stop(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    if (broker) await new Promise<void>((r) => broker.close(() => r()));
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

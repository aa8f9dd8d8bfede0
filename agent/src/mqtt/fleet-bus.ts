import mqtt, { type IClientOptions } from 'mqtt';
import type { Bus, BusConnectOptions, BusFactory, BusHandler } from '../core/contracts/bus.js';
import { mqttConnectError } from './client.js';

export interface FleetBrokerOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly protocolVersion?: 4 | 5;
  readonly connectTimeoutMs?: number;
}

/**
 * Controller-side and simulator MQTT connections (the fleet/ Bus interface over mqtt.js 5).
 * Clean sessions: the controller rebuilds its view from retained messages on every start,
 * so it needs no broker-side session (docs/reference/mqtt-broker.md "mqtt.js options"). The first connect must succeed
 * (MQTT_CONNECT_FAILED otherwise); later drops reconnect every second.
 */
export function fleetBusFactory(broker: FleetBrokerOptions): BusFactory {
  return (o: BusConnectOptions) => connectBus(broker, o);
}

async function connectBus(b: FleetBrokerOptions, o: BusConnectOptions): Promise<Bus> {
  const options: IClientOptions = {
    clientId: o.clientId,
    clean: true,
    protocolVersion: b.protocolVersion ?? 4,
    keepalive: 30,
    reconnectPeriod: 1000,
    connectTimeout: b.connectTimeoutMs ?? 10000,
    ...(o.will ? { will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: 1 as const, retain: true } } : {}),
    ...(b.username ? { username: b.username } : {}),
    ...(b.password ? { password: b.password } : {}),
    ...(b.ca ? { ca: b.ca } : {}),
    ...(b.cert ? { cert: b.cert } : {}),
    ...(b.key ? { key: b.key } : {}),
  };
  const client = mqtt.connect(b.url, options);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      client.end(true);
      reject(mqttConnectError(b.url, err));
    };
    client.once('connect', () => {
      client.off('error', onError);
      resolve();
    });
    client.once('error', onError);
  });
  client.on('error', () => undefined); // reconnects are automatic; errors after the first connect are transient
  const handlers: BusHandler[] = [];
  const reconnected: (() => void)[] = [];
  client.on('connect', () => {
    for (const h of reconnected) h();
  });
  client.on('message', (topic, payload, packet) => {
    for (const h of handlers) h(topic, payload, packet.retain);
  });
  return {
    async subscribe(filters, opts) {
      if (filters.length) await client.subscribeAsync([...filters], { qos: opts?.qos ?? 1 });
    },
    async unsubscribe(filters) {
      if (filters.length) await client.unsubscribeAsync([...filters]);
    },
    onMessage(h) {
      handlers.push(h);
    },
    onReconnect(h) {
      reconnected.push(h);
    },
    async publish(topic, body, retain) {
      await client.publishAsync(topic, body, { qos: 1, retain });
    },
    async close(opts) {
      // end(true) drops the socket without DISCONNECT, so the broker publishes the will.
      await client.endAsync(opts?.will === true);
    },
  };
}

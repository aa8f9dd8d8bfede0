/**
 * What the fleet controller and the device simulator need from MQTT, as a typed interface so
 * fleet/ never imports mqtt/ (docs/reference/design-rules.md "Layout and imports"): the CLI passes the implementation from
 * mqtt/fleet-bus.ts. QoS 1 throughout (docs/reference/mqtt-broker.md "mqtt.js options").
 */
export type BusHandler = (topic: string, payload: Buffer, retained: boolean) => void;

export interface Bus {
  /**
   * Subscribe filters; retained messages arrive through the handler like any other. QoS 1 by
   * default; `qos: 0` for a clean-session reader of retained state (fleet-session.ts says why).
   */
  subscribe(filters: readonly string[], options?: { readonly qos?: 0 | 1 }): Promise<void>;
  /** Drop filters subscribed before (a refresh of retained messages, fleet-session.ts). */
  unsubscribe(filters: readonly string[]): Promise<void>;
  onMessage(handler: BusHandler): void;
  /** Called after every reconnect (not the first connect): subscriptions are restored, retained state the client publishes is not. */
  onReconnect(handler: () => void): void;
  /** QoS 1 publish; an empty body with retain clears the retained message. */
  publish(topic: string, body: string | Buffer, retain: boolean): Promise<void>;
  /** Graceful close; with `will: true` the socket is dropped so the broker publishes the last will. */
  close(opts?: { readonly will?: boolean }): Promise<void>;
}

export interface BusConnectOptions {
  readonly clientId: string;
  /** Retained last will (simulated devices: `{state: "offline"}` on their status topic). */
  readonly will?: { readonly topic: string; readonly payload: string };
}

export type BusFactory = (options: BusConnectOptions) => Promise<Bus>;

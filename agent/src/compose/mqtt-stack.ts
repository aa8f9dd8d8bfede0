import { AgentError } from '../core/errors.js';
import type { Component } from '../core/lifecycle.js';
import type { AgentEnv } from '../core/agent-env.js';
import { deviceTopics, type BoardSummary } from '../core/contracts/topics.js';
import type { BoardInfo } from '../core/contracts/board.js';
import { KeyRing } from '../core/envelope.js';
import { DeviceMqtt } from '../mqtt/client.js';
import { checkMqttIdentity } from '../mqtt/identity.js';
import type { EmbeddedBroker } from '../mqtt/embedded-broker.js';
import { HealthService, noAgentStats, type AgentStatsSource } from '../health/service.js';
import { TegrastatsReader } from '../health/tegrastats-reader.js';
import { RolloutExecutor, type DeploymentHooks } from '../rollout/executor.js';
import { rollbackOp, type RequestHandlers } from '../rollout/requests.js';
import { RequestReplayCache } from '../rollout/request-replay.js';
import { readBytes, freeBytes, exists } from '../platform/fs.js';
import { which } from '../platform/exec.js';
import { hostName, machineId } from '../platform/host.js';
import { systemClock } from '../platform/clock.js';
import { reportSink, wireRollout } from './mqtt-wiring.js';

/**
 * MQTT side of the daemon (issue #6): embedded broker when `mqtt.url` is empty (standalone
 * mode), the device client, health telemetry and the rollout executor. The model store,
 * conversion and inference service (issues #4/#5) plug in through `hooks` / `stats`; until
 * they are wired, deployments end `failed` with DEPLOYMENT_NOT_WIRED in the converting state
 * (after the package was downloaded and verified).
 */
export interface MqttStackDeps {
  readonly agentVersion: string;
  readonly board: BoardInfo;
  readonly hooks?: DeploymentHooks;
  readonly stats?: AgentStatsSource;
  readonly requestHandlers?: Partial<RequestHandlers>;
  /** Redacted config for the `get-config` op. */
  readonly redactedConfig?: () => unknown;
  /** Receives the rollout executor once started (the inbox hands packages to `deployLocal`). */
  readonly onExecutor?: (executor: RolloutExecutor | undefined) => void;
}

const notWired = (): Promise<never> =>
  Promise.reject(new AgentError('DEPLOYMENT_NOT_WIRED', 'No model store / inference service is wired into the rollout executor in this build.', {
    hint: 'Use a build where the composition root wires the model store and inference service (issues #4/#5).',
  }));

export const notWiredHooks: DeploymentHooks = {
  currentModel: () => null,
  intake: notWired,
  prepare: notWired,
  warm: notWired,
  activate: notWired,
  rollbackToPrevious: () => Promise.resolve(null),
  servingStats: () => ({ ready: false, requests: 0, errors: 0 }),
};

/** Config deviceId, else /etc/machine-id, else the host name; made a valid single topic level. */
export async function resolveDeviceId(env: AgentEnv): Promise<string> {
  const raw = env.config.deviceId || (await machineId(env.paths)) || hostName();
  return raw.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 128) || 'jetson';
}

export function boardSummary(b: BoardInfo): BoardSummary {
  return { isJetson: b.isJetson, model: b.model, soc: b.soc, cudaArch: b.cudaArch, jetpack: b.jetpack, tensorrt: b.tensorrt };
}

async function findTegrastats(env: AgentEnv): Promise<string | null> {
  const configured = env.config.health.tegrastatsPath;
  if (configured) return configured;
  const onBoard = env.paths.toHost('/usr/bin/tegrastats');
  if (await exists(onBoard)) return onBoard;
  return (await which('tegrastats')) ?? null;
}

export async function mqttComponents(env: AgentEnv, deps: MqttStackDeps): Promise<Component[]> {
  const { config, log } = env;
  const deviceId = await resolveDeviceId(env);
  const prefix = config.mqtt.topicPrefix;
  const topics = deviceTopics(prefix, deviceId);
  const components: Component[] = [];
  // aedes is loaded only in standalone mode: a fleet board talks to an external broker and
  // should not carry the embedded one's modules (idle footprint, docs/benchmarks.md).
  const broker: EmbeddedBroker | undefined = config.mqtt.url
    ? undefined
    : new (await import('../mqtt/embedded-broker.js')).EmbeddedBroker({ host: config.mqtt.embedded.host, port: config.mqtt.embedded.port, log: log.child({ module: 'mqtt-broker' }) });
  if (broker) components.push(broker);

  let client: DeviceMqtt | undefined;
  const keys = new KeyRing(config.rollout.fleetPublicKeys);
  const hooks = deps.hooks ?? notWiredHooks;
  const d = config.rollout;
  let executor: RolloutExecutor | undefined;
  const facts = async () => ({ board: deps.board, freeDiskBytes: (await freeBytes(env.stateDir)).free });

  // The client needs the embedded broker's bound port, so it is created at start().
  components.push({
    name: 'mqtt-client',
    start: async () => {
      const m = config.mqtt;
      const username = m.password ? m.username || deviceId : m.username;
      const cert = m.certFile ? await readBytes(m.certFile) : undefined;
      // The embedded broker has no accounts; against a real one the identity must be the device id.
      if (m.url) checkMqttIdentity({ deviceId, username, ...(cert ? { certPem: cert } : {}) });
      client = new DeviceMqtt({
        url: m.url || (broker?.url ?? ''),
        clientId: deviceId,
        ...(username ? { username } : {}),
        ...(m.password ? { password: m.password } : {}),
        ...(m.caFile ? { ca: await readBytes(m.caFile) } : {}),
        ...(cert ? { cert } : {}),
        ...(m.keyFile ? { key: await readBytes(m.keyFile) } : {}),
        protocolVersion: m.protocolVersion,
        keepaliveSec: m.keepaliveSec,
        reconnectMaxMs: m.reconnectMaxMs,
        offlineQueueMax: m.offlineQueueMax,
        topics,
        // groups + cudaArch let `jetson-fleet rollout start --target group:NAME` and `--requires arch=` resolve real agents.
        online: () => ({ agentVersion: deps.agentVersion, board: boardSummary(deps.board), groups: [...config.groups] }),
        log: log.child({ module: 'mqtt' }),
      });
      await client.start();
      executor = new RolloutExecutor({
        stateDir: env.stateDir,
        hooks,
        keys,
        facts,
        ...reportSink(client, prefix, deviceId, log),
        defaults: {
          deadlines: {
            received: d.receivedTimeoutSec,
            downloading: d.downloadTimeoutSec,
            verifying: d.verifyTimeoutSec,
            converting: d.convertTimeoutSec,
            warming: d.warmTimeoutSec,
            activating: d.activateTimeoutSec,
            probation: d.probationGraceSec,
          },
          probationSec: d.probationSec,
          maxDownloadBytes: d.maxDownloadBytes,
          maxErrorRate: d.maxErrorRate,
          probationPollMs: 1000,
        },
        log: log.child({ module: 'rollout' }),
        clock: systemClock,
      });
      await executor.start();
      deps.onExecutor?.(executor);
      const replay = new RequestReplayCache(env.stateDir, log.child({ module: 'rollout' }));
      await replay.load(systemClock.now());
      const exec = executor;
      await wireRollout({
        client,
        executor: exec,
        prefix,
        deviceId,
        groups: config.groups,
        keys,
        handlers: {
          ping: () => Promise.resolve({ pong: true, deviceId, agentVersion: deps.agentVersion }),
          rollback: rollbackOp(exec),
          'get-config': deps.redactedConfig ? () => Promise.resolve(deps.redactedConfig?.()) : undefined,
          'plugin-status': undefined,
          'plugin-rebuild': undefined,
          'restart-inference': undefined,
          ...deps.requestHandlers,
        },
        replay,
        requestMaxTtlMs: d.requestMaxTtlSec * 1000,
        log: log.child({ module: 'rollout' }),
        now: () => systemClock.now(),
      });
      log.info({ deviceId, prefix, url: m.url ? undefined : broker?.url, trustedKeys: keys.size }, 'mqtt client started');
    },
    stop: async () => {
      deps.onExecutor?.(undefined);
      await executor?.stop();
      await client?.stop();
    },
  });

  const tegrastatsBin = deps.board.isJetson ? await findTegrastats(env) : null;
  const reader = tegrastatsBin ? new TegrastatsReader({ binary: tegrastatsBin, intervalMs: config.health.tegrastatsIntervalMs, log: log.child({ module: 'tegrastats' }) }) : null;
  components.push(
    new HealthService({
      deviceId,
      isJetson: deps.board.isJetson,
      paths: env.paths,
      stateDir: env.stateDir,
      agentVersion: deps.agentVersion,
      intervalSec: config.health.intervalSec,
      thresholds: { maxTempC: config.health.maxTempC, minFreeDiskBytes: config.health.minFreeDiskBytes, maxErrorRate: config.health.maxErrorRate },
      tegrastats: reader,
      tegrastatsInstalled: tegrastatsBin !== null,
      stats: {
        ...noAgentStats,
        ...deps.stats,
        // The executor knows the last deployment better than any other source.
        lastDeployment: () => {
          const r = executor?.memory.current ?? executor?.memory.lastTerminal;
          return r ? { deploymentId: r.deploymentId, state: r.state, updatedAt: r.updatedAt } : null;
        },
      },
      publish: async (s) => {
        if (client) await client.publish(topics.health, s);
      },
      log: log.child({ module: 'health' }),
      clock: systemClock,
    }),
  );
  return components;
}

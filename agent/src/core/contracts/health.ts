import { Type, type Static } from '@sinclair/typebox';

/**
 * Health snapshot published retained on `{p}/devices/{id}/health` (issue #6 §3, docs/health.md).
 * Built by health/snapshot.ts (pure) from probe readings; read by the fleet controller.
 * Versioned (`v`); numbers are SI-ish with the unit in the key name. `null` = not measurable
 * on this host (e.g. no tegrastats on a laptop), never a guess.
 */
export const HEALTH_SNAPSHOT_VERSION = 1;

const Nullable = <T extends ReturnType<typeof Type.Number>>(t: T) => Type.Union([t, Type.Null()]);
const Num = () => Nullable(Type.Number());

export const HealthStatus = Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('failed')]);

export const HealthReason = Type.Object(
  {
    /** Stable reason code, e.g. TEMP_HIGH, DISK_LOW, ERROR_RATE_HIGH, MODEL_NOT_READY, PLUGIN_DRIFT, TEGRASTATS_MISSING. */
    code: Type.String({ minLength: 1 }),
    message: Type.String(),
    severity: Type.Union([Type.Literal('degraded'), Type.Literal('failed')]),
  },
  { additionalProperties: false },
);

export const HealthSnapshotSchema = Type.Object(
  {
    v: Type.Literal(HEALTH_SNAPSHOT_VERSION),
    ts: Type.String({ description: 'ISO-8601 time of the snapshot.' }),
    deviceId: Type.String(),
    status: HealthStatus,
    reasons: Type.Array(HealthReason),
    system: Type.Object(
      {
        cpuLoadPct: Type.Array(Type.Number()),
        cpuLoadAvgPct: Num(),
        memory: Type.Object({ totalBytes: Type.Number(), usedBytes: Type.Number(), availableBytes: Type.Number() }, { additionalProperties: false }),
        swap: Type.Object({ totalBytes: Type.Number(), usedBytes: Type.Number() }, { additionalProperties: false }),
        disk: Type.Object(
          { path: Type.String(), totalBytes: Num(), freeBytes: Num() },
          { additionalProperties: false, description: 'File system holding the state dir.' },
        ),
        network: Type.Array(
          Type.Object({ iface: Type.String(), rxBytesPerSec: Num(), txBytesPerSec: Num() }, { additionalProperties: false }),
        ),
        uptimeSec: Type.Number(),
        cpuTempC: Num(),
      },
      { additionalProperties: false },
    ),
    jetson: Type.Union([
      Type.Null(),
      Type.Object(
        {
          tegrastats: Type.Object(
            {
              running: Type.Boolean(),
              restarts: Type.Integer({ minimum: 0 }),
              /** Last parsed sample (see health/tegrastats.ts), null before the first line. */
              sample: Type.Union([Type.Null(), Type.Record(Type.String(), Type.Unknown())]),
            },
            { additionalProperties: false },
          ),
          gpuLoadPct: Num(),
          thermal: Type.Array(Type.Object({ zone: Type.String(), type: Type.String(), tempC: Num() }, { additionalProperties: false })),
          rails: Type.Array(
            Type.Object(
              { name: Type.String(), voltageMV: Num(), currentMA: Num(), powerMW: Num(), source: Type.Union([Type.Literal('iio'), Type.Literal('hwmon')]) },
              { additionalProperties: false },
            ),
          ),
          nvpmodel: Type.Union([Type.Null(), Type.Object({ id: Type.Union([Type.Integer(), Type.Null()]), name: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false })]),
        },
        { additionalProperties: false },
      ),
    ]),
    agent: Type.Object(
      {
        version: Type.String(),
        uptimeSec: Type.Number(),
        rssBytes: Type.Number(),
        model: Type.Union([
          Type.Null(),
          Type.Object(
            {
              name: Type.String(),
              version: Type.String(),
              backend: Type.String(),
              state: Type.String({ description: 'loading | ready | failed | none' }),
            },
            { additionalProperties: false },
          ),
        ]),
        inference: Type.Object(
          {
            requests: Type.Integer({ minimum: 0 }),
            errors: Type.Integer({ minimum: 0 }),
            latencyP50Ms: Num(),
            latencyP99Ms: Num(),
            swap: Type.Object(
              {
                heldRequests: Type.Integer({ minimum: 0 }),
                rejectedRequests: Type.Integer({ minimum: 0 }),
                longestHoldMs: Num(),
              },
              { additionalProperties: false, description: 'swapMode replace: requests held while no model was loaded, how many of them answered 503, the longest hold (null: none held).' },
            ),
          },
          { additionalProperties: false, description: 'Counts over the last interval.' },
        ),
        plugin: Type.Union([Type.Null(), Type.Object({ status: Type.String(), drift: Type.Boolean() }, { additionalProperties: false })]),
        lastDeployment: Type.Union([
          Type.Null(),
          Type.Object({ deploymentId: Type.String(), state: Type.String(), updatedAt: Type.String() }, { additionalProperties: false }),
        ]),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type HealthSnapshot = Static<typeof HealthSnapshotSchema>;
export type HealthReason = Static<typeof HealthReason>;
export type HealthStatus = Static<typeof HealthStatus>;

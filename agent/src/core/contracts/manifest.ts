import { Type, type Static } from '@sinclair/typebox';
import { PLUGIN_NAME_PATTERN } from '../tensorrt-plugins.js';

/**
 * The payload inside a signed deployment envelope (docs/reference/design-rules.md "Deployments over MQTT"; docs/reference/fleet-rollouts.md "Manifest
 * contents": artifact SHA-256, target, release requirements, expiry and a monotonically
 * increasing sequence so a replayed old manifest is rejected). Produced by the fleet
 * controller, verified and parsed by the device (rollout/). Schema version 1; never change
 * a field's meaning in place (docs/reference/fleet-rollouts.md "Recommendations applied" #5).
 */
export const DEPLOYMENT_MANIFEST_VERSION = 1;

/** Inclusive-minimum / exclusive-maximum dotted version range, e.g. {min: "8.5", max: "9"}. */
export const VersionRange = Type.Object(
  {
    min: Type.Optional(Type.String({ pattern: '^[0-9]+(\\.[0-9]+)*$' })),
    max: Type.Optional(Type.String({ pattern: '^[0-9]+(\\.[0-9]+)*$' })),
  },
  { additionalProperties: false },
);
export type VersionRange = Static<typeof VersionRange>;

export const ManifestRequires = Type.Object(
  {
    /** Accepted SoCs (BoardInfo.soc, e.g. tegra234); `x86_64`/non-Jetson hosts report soc null → match "none". */
    socs: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** Accepted CUDA archs (BoardInfo.cudaArch, e.g. 87). */
    cudaArchs: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1 })),
    tensorrt: Type.Optional(VersionRange),
    jetpack: Type.Optional(VersionRange),
    /** Free bytes in the state dir needed beyond the package itself (engine, unpacked files). */
    minFreeDiskBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    /**
     * TensorRT plugin creators the model needs (`BatchedNMS_TRT` …). A device whose TensorRT
     * no longer has one (TensorRT 11 removed BatchedNMS/BatchTile) refuses the manifest with
     * TENSORRT_PLUGIN_REMOVED before downloading anything. Agents older than this field reject
     * a manifest that carries it (unknown key, MANIFEST_INVALID), so the controller writes it
     * only when the package needs a plugin (docs/rollouts.md).
     */
    plugins: Type.Optional(Type.Array(Type.String({ pattern: PLUGIN_NAME_PATTERN }), { minItems: 1, maxItems: 32 })),
  },
  { additionalProperties: false },
);
export type ManifestRequires = Static<typeof ManifestRequires>;

export const ManifestPolicy = Type.Object(
  {
    /** Seconds of healthy serving after activation before `active` (default: rollout.probationSec). */
    probationSec: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
    /** Error ratio during probation above which the device rolls back (default 0.05). */
    maxErrorRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /**
     * Accuracy gate after warm-up (docs/rollouts.md, "Accuracy gate"): the device evaluates the
     * engine it built on the package's validation set; below the gate it rolls back with
     * ACCURACY_REGRESSION. `minMap`: an absolute floor; `maxDrop`: at most this much below the
     * package's validation.referenceMap.
     */
    accuracy: Type.Optional(
      Type.Union([
        Type.Object({ minMap: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false }),
        Type.Object({ maxDrop: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false }),
      ]),
    ),
    /** Per-state deadlines in seconds (override the device defaults). */
    deadlines: Type.Optional(
      Type.Object(
        {
          downloadSec: Type.Optional(Type.Integer({ minimum: 1 })),
          verifySec: Type.Optional(Type.Integer({ minimum: 1 })),
          convertSec: Type.Optional(Type.Integer({ minimum: 1 })),
          warmSec: Type.Optional(Type.Integer({ minimum: 1 })),
          activateSec: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ManifestPolicy = Static<typeof ManifestPolicy>;

export const DeploymentManifestSchema = Type.Object(
  {
    v: Type.Literal(DEPLOYMENT_MANIFEST_VERSION),
    deploymentId: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' }),
    /** ISO-8601 UTC. */
    issuedAt: Type.String({ minLength: 10 }),
    /** ISO-8601 UTC; the device rejects the manifest after this instant (MANIFEST_EXPIRED). */
    expiresAt: Type.String({ minLength: 10 }),
    /**
     * Anti-replay: strictly increasing per fleet. A device rejects a manifest whose sequence
     * is not greater than the highest it has accepted (MANIFEST_REPLAYED).
     */
    sequence: Type.Integer({ minimum: 1 }),
    package: Type.Object(
      {
        /** http://, https:// or file:// (a path on the board). */
        url: Type.String({ pattern: '^(https?|file)://' }),
        sha256: Type.String({ pattern: '^[a-f0-9]{64}$' }),
        size: Type.Integer({ minimum: 1 }),
      },
      { additionalProperties: false },
    ),
    model: Type.Object(
      {
        name: Type.String({ pattern: '^[a-z0-9._-]+$', minLength: 1, maxLength: 100 }),
        version: Type.String({ pattern: '^[A-Za-z0-9._+-]+$', minLength: 1, maxLength: 64 }),
      },
      { additionalProperties: false },
    ),
    requires: Type.Optional(ManifestRequires),
    policy: Type.Optional(ManifestPolicy),
  },
  { additionalProperties: false },
);

export type DeploymentManifest = Static<typeof DeploymentManifestSchema>;

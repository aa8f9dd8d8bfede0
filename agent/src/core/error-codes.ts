/**
 * The one table that maps every stable error code to its CLI exit code and HTTP status.
 * docs/errors.md lists the same codes (test/unit/core/errors-doc.test.ts keeps them in sync).
 * Add a code here first, then document it.
 */
export interface ErrorCodeInfo {
  /** Process exit code for the CLI: 1 operational failure, 2 usage error. */
  readonly exit: 1 | 2;
  /** HTTP status when the error reaches the inference API. */
  readonly http: number;
  /** One line for docs/errors.md. */
  readonly summary: string;
}

const op = (http: number, summary: string): ErrorCodeInfo => ({ exit: 1, http, summary });
const usage = (summary: string): ErrorCodeInfo => ({ exit: 2, http: 400, summary });

export const ERROR_CODES = {
  // generic
  INTERNAL: op(500, 'An unexpected internal error; the message carries the cause.'),
  USAGE: usage('Unknown command, unknown flag or bad flag value.'),
  CANCELED: op(499, 'The operation was canceled (signal or abort request).'),
  TIMEOUT: op(504, 'The operation ran past its deadline.'),
  BUSY: op(409, 'Another long operation holds the single-flight runner.'),
  // config
  CONFIG_INVALID: usage('The configuration has invalid or unknown keys; every problem is listed.'),
  CONFIG_UNREADABLE: op(500, 'The configuration file could not be read or is not valid YAML.'),
  STATE_DIR_UNWRITABLE: op(500, 'No writable state directory could be found or created.'),
  // platform
  EXEC_FAILED: op(500, 'A subprocess exited non-zero; the stderr tail is in the message.'),
  EXEC_NOT_FOUND: op(500, 'A required program is not installed or not on PATH.'),
  FS_ERROR: op(500, 'A file-system operation failed (permission, space, missing path).'),
  // board
  BOARD_UNSUPPORTED: op(500, 'The host is a Jetson with an SoC this agent does not know.'),
  BOARD_PARSE: op(500, 'A board identification file exists but could not be parsed.'),
  // fleet controller
  FLEET_KEY_EXISTS: op(409, 'Key files already exist in the output directory; refusing to overwrite a signing key.'),
  FLEET_DEVICES_FILE_INVALID: op(400, 'A --devices-file is not valid JSON or its device records do not match the schema.'),
  FLEET_PACKAGE_INVALID: op(400, 'A model package tar cannot be read or has no valid model.json (name, version).'),
  FLEET_KEY_INVALID: op(400, 'A signing or public key file is not an Ed25519 PEM key.'),
  FLEET_ROLLOUT_ABORTED: op(409, 'The rollout aborted (failure threshold, a failed wave without success, or an operator); its current wave was rolled back.'),
  FLEET_ROLLOUT_NOT_FOUND: op(404, 'No retained rollout record with this id on the broker under the topic prefix.'),
  FLEET_ROLLOUT_EXISTS: op(409, 'A rollout with this deployment id already exists; resume it or make a new manifest.'),
  FLEET_ROLLOUT_BUSY: op(409, 'Another controller sent a heartbeat for this rollout recently; two controllers must not drive one rollout.'),
  FLEET_DEVICE_NOT_FOUND: op(404, 'No retained status, health or deployment report for this device id on the broker.'),
  FLEET_NO_TARGETS: op(404, 'The rollout target matched no compatible device.'),
  // mqtt (issue #6)
  MQTT_CONNECT_FAILED: op(503, 'The MQTT broker could not be reached or refused the connection.'),
  MQTT_BROKER_PORT_IN_USE: op(500, 'The embedded MQTT broker could not listen: the address is in use or not bindable.'),
  MQTT_NOT_CONNECTED: op(503, 'A publish was dropped because the client is disconnected and the offline queue is full.'),
  // signed manifests and requests (DESIGN §8)
  MANIFEST_MALFORMED: op(400, 'A signed envelope is not {payload, signature, keyId} with base64 fields.'),
  MANIFEST_UNKNOWN_KEY: op(403, 'The envelope names a keyId that is not in rollout.fleetPublicKeys.'),
  MANIFEST_BAD_SIGNATURE: op(403, 'The Ed25519 signature does not match the exact payload bytes.'),
  MANIFEST_INVALID: op(400, 'The signed payload is not a valid deployment manifest or request (schema).'),
  MANIFEST_EXPIRED: op(410, 'The manifest or request is past its expiresAt.'),
  MANIFEST_REPLAYED: op(409, 'The manifest sequence is not newer than the last accepted one (anti-replay).'),
  MANIFEST_INCOMPATIBLE: op(422, 'The manifest requires a SoC, CUDA arch, TensorRT, JetPack or free disk this device does not have.'),
  // deployment (rollout/)
  DOWNLOAD_FAILED: op(502, 'The package download failed (HTTP status, network error or unreadable file:// path).'),
  DOWNLOAD_TOO_LARGE: op(413, 'The package is larger than the manifest size or rollout.maxDownloadBytes.'),
  DOWNLOAD_SHA_MISMATCH: op(422, 'The downloaded package does not have the sha256 the manifest names.'),
  DISK_SPACE_LOW: op(507, 'Not enough free space in the state dir for the package and its conversion.'),
  DEPLOYMENT_TIMEOUT: op(504, 'A deployment state ran past its deadline.'),
  DEPLOYMENT_PREPARE_FAILED: op(500, 'Intake, conversion or warm-up of the new model failed; the old model keeps serving.'),
  DEPLOYMENT_ACTIVATE_FAILED: op(500, 'Switching to the new model failed; the previous model was restored.'),
  DEPLOYMENT_PROBATION_FAILED: op(500, 'The new model was unhealthy during probation; the previous model was restored.'),
  DEPLOYMENT_SUPERSEDED: op(409, 'A newer desired manifest replaced this deployment before it finished.'),
  DEPLOYMENT_NOT_WIRED: op(501, 'This build has no model store / inference service wired into the rollout executor.'),
  NO_PREVIOUS_MODEL: op(409, 'A rollback was requested but there is no previous model to return to.'),
  REQUEST_UNKNOWN_OP: op(404, 'An MQTT request names an operation the agent does not know.'),
  // health
  TEGRASTATS_FAILED: op(500, 'tegrastats is missing on a Jetson or keeps exiting; telemetry lacks GPU/power data.'),
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

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
  // runtime (raised by the launcher bin/runtime.sh and the Ansible role, before any JavaScript runs)
  RUNTIME_UNSUPPORTED: op(500, 'The board cannot run the agent: 32-bit userspace, no glibc, or a glibc older than the native modules need.'),
  RUNTIME_NOT_FOUND: op(500, 'No JavaScript runtime the board can run is installed (Bun in the release, or Node.js >= 20).'),
  // fleet controller
  FLEET_KEY_EXISTS: op(409, 'Key files already exist in the output directory; refusing to overwrite a signing key.'),
  FLEET_DEVICES_FILE_INVALID: op(400, 'A --devices-file is not valid JSON or its device records do not match the schema.'),
  FLEET_NO_TARGETS: op(404, 'The rollout target matched no compatible device.'),
  // models (issue #4)
  PACKAGE_INVALID: op(400, 'A model package is not a readable tar/tar.gz or lacks model.json or a file it names.'),
  PACKAGE_UNSAFE: op(400, 'A package member is an absolute path, contains "..", links outside the package, is a duplicate or is oversize.'),
  PACKAGE_TOO_LARGE: op(413, 'A package is larger than models.maxPackageBytes.'),
  PACKAGE_SHA256_MISMATCH: op(400, 'A package does not have the expected size or sha256.'),
  PACKAGE_CONFLICT: op(409, 'Another package with the same name@version is already stored.'),
  MODEL_MANIFEST_INVALID: op(400, 'model.json does not match the schema; every problem is listed with its path.'),
  MODEL_NOT_FOUND: op(404, 'No stored package or loaded model matches the given name@version (or sha256).'),
  SPEC_SYNTAX: op(400, 'The TLT experiment spec is not valid protobuf text; line and column are given.'),
  SPEC_INVALID: op(400, 'The TLT/TAO experiment spec lacks a field needed to derive the model (e.g. the input size), or a value is wrong; file:line:col is given.'),
  ETLT_CORRUPT: op(400, 'The .etlt file is truncated or its header is malformed.'),
  ETLT_BAD_KEY: op(400, 'The .etlt does not decrypt to a model with the given key.'),
  KEYRING_INSECURE: op(500, 'The model keyring file is readable by group or others; it is refused.'),
  KEYRING_UNREADABLE: op(500, 'The model keyring file is missing, unreadable or not valid YAML.'),
  KEY_NOT_FOUND: op(400, 'The keyRef of a model is not in the keyring.'),
  // conversion (issue #4)
  CONVERTER_NOT_FOUND: op(500, 'No tlt-converter/tao-converter/trtexec was found; the hint names the build for this JetPack.'),
  CONVERTER_LIB_MISMATCH: op(500, 'The converter was built for another TensorRT (missing libnvinfer.so.N or undefined symbol).'),
  TENSORRT_PLUGIN_REMOVED: op(422, 'The model needs a plugin (BatchedNMS_TRT, BatchTilePlugin_TRT …) that this TensorRT (11+) no longer has; re-export with EfficientNMS or stay on TensorRT 10.'),
  PLUGIN_MISSING: op(500, 'A TensorRT plugin the model needs (BatchTilePlugin_TRT, BatchedNMS_TRT …) is not registered.'),
  ENGINE_VERSION_MISMATCH: op(500, 'An engine was built by another TensorRT version and must be rebuilt on this board.'),
  OUT_OF_MEMORY: op(500, 'The converter ran out of GPU/CPU memory.'),
  CONVERT_FAILED: op(500, 'The converter failed with an unrecognised error; the stderr tail and the log path are given.'),
  UFF_NEEDS_TENSORRT: op(400, 'A UFF-based .etlt can only be converted with TensorRT on a Jetson; there is no ONNX Runtime path.'),
  // plugin build (TensorRT OSS)
  CMAKE_NOT_FOUND: op(500, 'No cmake was found on PATH, in /usr/local/bin or $HOME/install/bin.'),
  CMAKE_TOO_OLD: op(500, 'The cmake found is older than the TensorRT OSS branch requires; the message names both versions.'),
  CUDA_COMPILER_NOT_FOUND: op(500, 'nvcc was not found; put /usr/local/cuda/bin on PATH or set plugin.cudaCompiler.'),
  PLUGIN_BRANCH_UNKNOWN: op(500, 'The TensorRT version is unknown, so no TensorRT OSS branch can be chosen; pass --ref.'),
  PLUGIN_ARCH_UNKNOWN: op(500, 'No GPU arch is known (not a detected Jetson); pass --gpu-archs.'),
  PLUGIN_SOURCE_UNAVAILABLE: op(500, 'The TensorRT OSS source could not be fetched or unpacked; a partial clone was removed.'),
  PLUGIN_TREE_UNREADABLE: op(500, 'The source tree\'s CMakeLists.txt files do not parse or define no libnvinfer_plugin target; nothing was built.'),
  PLUGIN_BUILD_FAILED: op(500, 'cmake or make failed; the log tail is in the message and the full log in state/builds/<id>/build.log.'),
  PLUGIN_OUTPUT_NOT_FOUND: op(500, 'The build finished but no libnvinfer_plugin.so.<x.y.z> was found in out/ or build/.'),
  PLUGIN_NO_BUILD: op(500, '--last-build was given but no plugin build is recorded in the state dir.'),
  // trt-runner build (issue #5)
  RUNNER_TENSORRT_MISSING: op(500, 'No TensorRT headers/libraries were found to build trt-runner against; the message lists where it looked.'),
  RUNNER_TENSORRT_UNSUPPORTED: op(500, 'The installed TensorRT major is one trt-runner does not support (it needs 7.x, 8.x or 10.x).'),
  RUNNER_BUILD_FAILED: op(500, 'cmake or make failed building trt-runner; the log tail is in the message and the full log in state/builds/trt-runner/<id>/build.log.'),
  // plugin swap
  PLUGIN_LIBRARY_NOT_FOUND: op(500, 'No system libnvinfer_plugin.so.<MAJOR> link or file was found in the TensorRT library directory.'),
  PLUGIN_CANDIDATE_INVALID: op(500, 'The library to install failed a check (ELF, machine, SONAME, plugin creators); nothing was changed.'),
  PLUGIN_VERIFY_FAILED: op(500, 'The swapped library failed verification and the original was put back; the reason is in the message.'),
  PLUGIN_BACKUP_MISSING: op(500, 'The backup of the original library is missing or damaged; nothing was changed.'),
  PLUGIN_HELPER_NOT_RUNNING: op(503, 'No root plugin helper picked up the install request (jetson-agent-plugin.path not installed or not running); the request was withdrawn.'),
  PLUGIN_HELPER_TIMEOUT: op(504, 'The root plugin helper took the install request but wrote no result.json in time.'),
  PLUGIN_HELPER_FAILED: op(500, 'The root plugin helper refused the request or its `plugin install` failed; the helper\'s code, message and stderr tail are given.'),
  PLUGIN_PATH_UNSAFE: op(500, 'A directory root would write (the records dir, the library dir or one above them) is a symlink, owned by another user or writable by others, or the library is not a regular file; nothing was changed.'),
  PLUGIN_RECORDS_INVALID: op(500, 'A root-only plugin record (journal.json, installed.json, a backup manifest) fails its schema; nothing was changed.'),
  PLUGIN_RECOVERY_MISMATCH: op(500, 'The interrupted plugin operation was for another library file than the one detected now; recovery changed nothing.'),
  PLUGIN_LEGACY_RECORDS: op(500, 'Plugin records of an older release in the agent-owned state dir could not be checked against root-owned evidence; nothing was migrated or changed.'),
  PACKAGE_MANAGER_BUSY: op(409, 'dpkg/apt holds its lock; the swap did not start. Retry when the package manager is done.'),
  // models (ONNX)
  ONNX_INVALID: op(400, 'A file given as an ONNX model does not decode as an ONNX ModelProto.'),
  ONNX_UNSUPPORTED: op(400, 'The ONNX graph has a shape this agent cannot prepare for ONNX Runtime.'),
  MODEL_FAMILY_UNKNOWN: op(400, 'An ONNX graph matches no detector family the agent knows (or not the one --family names); the message lists its inputs and outputs.'),
  MODEL_INPUT_MISMATCH: op(400, "The input size or type in the spec or flags disagrees with the graph's own, or the graph's image input is not a float NCHW tensor."),
  REQUEST_OPTION_UNSUPPORTED: op(400, 'A per-request option does not apply to the serving model (e.g. iou for a model whose NMS is part of the graph).'),
  NMS_ATTRIBUTES_INVALID: op(400, "A BatchedNMS node's attributes would make TensorRT's plugin refuse the model or find nothing (missing/mistyped attribute, topK > 4096, keepTopK > topK)."),
  // inference
  IMAGE_UNDECODABLE: op(400, 'The request body is empty or not a decodable JPEG/PNG image.'),
  IMAGE_TOO_LARGE: op(413, 'The image has more pixels than inference.maxPixels, or the body exceeds inference.bodyLimitBytes.'),
  UNSUPPORTED_MEDIA_TYPE: op(415, 'The request Content-Type is not one the route accepts.'),
  BAD_REQUEST: op(400, 'A query parameter or request body field is missing or has the wrong type or range.'),
  ROUTE_NOT_FOUND: op(404, 'No HTTP route matches the method and path.'),
  MODEL_NOT_READY: op(503, 'No model is loaded and warmed up yet.'),
  OVERLOADED: op(503, 'The inference queue is full; retry after the Retry-After seconds.'),
  BODY_BUDGET_EXHAUSTED: op(503, 'Requests being received already hold inference.maxInflightBodyBytes of body; this body was not read. Retry after Retry-After.'),
  HTTP_REQUEST_TIMEOUT: op(408, 'The client did not send the request headers and body within inference.requestTimeoutMs; the connection was closed.'),
  UNAUTHORIZED: op(401, 'A bearer token is required on this bind address and was missing or wrong.'),
  CROSS_ORIGIN_REFUSED: op(403, 'A state-changing request came from another site (Origin or Sec-Fetch-Site); nothing changed.'),
  CONSOLE_NOT_BUILT: op(500, 'The board console assets are missing from agent/dist/console; run `npm run build`.'),
  HTTP_PORT_IN_USE: op(500, 'The inference endpoint could not listen: the address is in use or not bindable.'),
  ENGINE_FAILED: op(500, 'The inference backend failed to load or run the model (worker or runner crashed).'),
  WARMUP_FAILED: op(500, 'A new model failed its warm-up runs; the previous model keeps serving.'),
  GOLDEN_MISMATCH: op(500, "A new model's detections on the package's golden images differ beyond tolerance; the previous model keeps serving."),
  MODEL_IN_USE: op(409, 'A model package to remove is serving, is the rollback target, is recorded or configured to start, or belongs to a deployment in progress; nothing was removed.'),
  MODEL_DOES_NOT_FIT: op(507, 'A model needs more memory than the board has even with the serving model unloaded; refused before anything was unloaded.'),
  NO_PREVIOUS_MODEL: op(409, 'Rollback was asked for but no previous model is known.'),
  FLEET_PACKAGE_INVALID: op(400, 'A model package tar cannot be read or has no valid model.json (name, version).'),
  FLEET_KEY_INVALID: op(400, 'A signing or public key file is not an Ed25519 PEM key.'),
  FLEET_ROLLOUT_ABORTED: op(409, 'The rollout aborted (failure threshold, a failed wave without success, or an operator); its current wave was rolled back.'),
  FLEET_ROLLOUT_NOT_FOUND: op(404, 'No retained rollout record with this id on the broker under the topic prefix.'),
  FLEET_ROLLOUT_EXISTS: op(409, 'A rollout with this deployment id already exists; resume it or make a new manifest.'),
  FLEET_ROLLOUT_BUSY: op(409, 'Another controller sent a heartbeat for this rollout recently; two controllers must not drive one rollout.'),
  FLEET_DEVICE_TIMED_OUT: op(504, 'A device of a rollout wave was online without an outcome at the wave deadline (controller-side; counts as a failure).'),
  FLEET_ROLLBACK_INCOMPLETE: op(502, 'A rollback did not reach every online device: one still serves the rolled-back model, answered with an error, or did not answer.'),
  FLEET_DEVICE_NOT_FOUND: op(404, 'No retained status, health or deployment report for this device id on the broker.'),
  FLEET_REQUEST_TIMEOUT: op(504, 'No response to a device request within --timeout; the message gives the device\'s retained status (offline, online, never seen).'),
  FLEET_REQUEST_REJECTED: op(403, 'The device refused a request: unknown key, bad signature, unsigned, expired or not for this device; nothing ran.'),
  FLEET_REQUEST_FAILED: op(502, 'The device accepted a request but the op failed or is not offered by its agent; the device\'s code and message are included.'),
  // datasets and evaluation (issue #16)
  DATASET_NOT_FOUND: op(404, 'The dataset directory, or its image/ or label/ directory, does not exist.'),
  DATASET_INVALID: op(422, 'The dataset has problems that would mislead an evaluation; every problem is listed with file:line.'),
  DATASET_LABEL_MALFORMED: op(422, 'A KITTI label or prediction line is malformed (field count, number, box order); file:line given.'),
  DATASET_IMAGE_MISSING: op(422, 'A label file has no image with its id (or an image has no label).'),
  DATASET_IMAGE_CORRUPT: op(422, 'An image of the dataset cannot be decoded (truncated or not JPEG/PNG).'),
  DATASET_CLASS_EMPTY: op(422, 'A class of target_class_mapping has no countable object in the set; its AP would be 0.'),
  DATASET_TOO_LARGE: op(507, 'The output of a dataset operation would not fit in the free space of the target file system.'),
  EVAL_INCOMPLETE: op(422, 'The evaluation skipped images; the numbers cover only part of the set and are marked partial.'),
  EVAL_TOO_LONG: op(422, 'The estimated evaluation time exceeds the deadline it must finish within; refused before it starts.'),
  ACCURACY_REGRESSION: op(422, 'The evaluated mAP is below the accuracy gate (minMap, or reference mAP minus maxDrop).'),
  // mqtt (issue #6)
  MQTT_CONNECT_FAILED: op(503, 'The MQTT broker could not be reached or refused the connection.'),
  MQTT_BROKER_PORT_IN_USE: op(500, 'The embedded MQTT broker could not listen: the address is in use or not bindable.'),
  MQTT_IDENTITY_MISMATCH: usage('mqtt.username or the client certificate CN is not the device id, which the broker ties to the client id; the agent does not connect.'),
  MQTT_NOT_CONNECTED: op(503, 'A publish was dropped because the client is disconnected and the offline queue is full.'),
  // signed manifests and requests (docs/reference/design-rules.md "Deployments over MQTT")
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
  REQUEST_UNKNOWN_OP: op(404, 'An MQTT request names an operation the agent does not know.'),
  REQUEST_MISDIRECTED: op(421, 'A signed MQTT request names another op or device than the topic it arrived on; nothing ran.'),
  REQUEST_REPLAYED: op(409, 'A signed MQTT request with this transaction was already accepted by the device (a replay); nothing ran.'),
  // health
  TEGRASTATS_FAILED: op(500, 'tegrastats is missing on a Jetson or keeps exiting; telemetry lacks GPU/power data.'),
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

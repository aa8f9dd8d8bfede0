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
  // models (ONNX)
  ONNX_INVALID: op(400, 'A file given as an ONNX model does not decode as an ONNX ModelProto.'),
  ONNX_UNSUPPORTED: op(400, 'The ONNX graph has a shape this agent cannot prepare for ONNX Runtime.'),
  // inference
  IMAGE_UNDECODABLE: op(400, 'The request body is empty or not a decodable JPEG/PNG image.'),
  IMAGE_TOO_LARGE: op(413, 'The image has more pixels than inference.maxPixels, or the body exceeds inference.bodyLimitBytes.'),
  UNSUPPORTED_MEDIA_TYPE: op(415, 'The request Content-Type is not one the route accepts.'),
  BAD_REQUEST: op(400, 'A query parameter or request body field is missing or has the wrong type or range.'),
  ROUTE_NOT_FOUND: op(404, 'No HTTP route matches the method and path.'),
  MODEL_NOT_FOUND: op(404, 'No model with that name (and version) is loaded or known to the store.'),
  MODEL_NOT_READY: op(503, 'No model is loaded and warmed up yet.'),
  OVERLOADED: op(503, 'The inference queue is full; retry after the Retry-After seconds.'),
  UNAUTHORIZED: op(401, 'A bearer token is required on this bind address and was missing or wrong.'),
  ENGINE_FAILED: op(500, 'The inference backend failed to load or run the model (worker or runner crashed).'),
  WARMUP_FAILED: op(500, 'A new model failed its warm-up runs; the previous model keeps serving.'),
  GOLDEN_MISMATCH: op(500, "A new model's detections on the package's golden images differ beyond tolerance; the previous model keeps serving."),
  NO_PREVIOUS_MODEL: op(409, 'Rollback was asked for but no previous model is known.'),
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

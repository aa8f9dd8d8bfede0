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
  FLEET_NO_TARGETS: op(404, 'The rollout target matched no compatible device.'),
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

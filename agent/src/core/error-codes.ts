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
  // plugin build (TensorRT OSS)
  CMAKE_NOT_FOUND: op(500, 'No cmake was found on PATH, in /usr/local/bin or $HOME/install/bin.'),
  CMAKE_TOO_OLD: op(500, 'The cmake found is older than the TensorRT OSS branch requires; the message names both versions.'),
  CUDA_COMPILER_NOT_FOUND: op(500, 'nvcc was not found; put /usr/local/cuda/bin on PATH or set plugin.cudaCompiler.'),
  PLUGIN_BRANCH_UNKNOWN: op(500, 'The TensorRT version is unknown, so no TensorRT OSS branch can be chosen; pass --ref.'),
  PLUGIN_ARCH_UNKNOWN: op(500, 'No GPU arch is known (not a detected Jetson); pass --gpu-archs.'),
  PLUGIN_SOURCE_UNAVAILABLE: op(500, 'The TensorRT OSS source could not be fetched or unpacked; a partial clone was removed.'),
  PLUGIN_BUILD_FAILED: op(500, 'cmake or make failed; the log tail is in the message and the full log in state/builds/<id>/build.log.'),
  PLUGIN_OUTPUT_NOT_FOUND: op(500, 'The build finished but no libnvinfer_plugin.so.<x.y.z> was found in out/ or build/.'),
  PLUGIN_NO_BUILD: op(500, '--last-build was given but no plugin build is recorded in the state dir.'),
  // plugin swap
  PLUGIN_LIBRARY_NOT_FOUND: op(500, 'No system libnvinfer_plugin.so.<MAJOR> link or file was found in the TensorRT library directory.'),
  PLUGIN_CANDIDATE_INVALID: op(500, 'The library to install failed a check (ELF, machine, SONAME, plugin creators); nothing was changed.'),
  PLUGIN_VERIFY_FAILED: op(500, 'The swapped library failed verification and the original was put back; the reason is in the message.'),
  PLUGIN_BACKUP_MISSING: op(500, 'The backup of the original library is missing or damaged; nothing was changed.'),
  PACKAGE_MANAGER_BUSY: op(409, 'dpkg/apt holds its lock; the swap did not start. Retry when the package manager is done.'),
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

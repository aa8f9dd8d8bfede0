import { pino, destination, stdTimeFunctions, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Secret fields are censored wherever they appear in a log object (STYLE §7; docs/reference/design-rules.md "Cross-cutting rules").
 * pino's redaction needs explicit paths; these cover the shapes the agent logs.
 */
export const REDACT_PATHS = [
  'password',
  'token',
  'key',
  'privateKey',
  'secret',
  'modelKey',
  'authorization',
  '*.password',
  '*.token',
  '*.key',
  '*.privateKey',
  '*.secret',
  '*.modelKey',
  '*.authorization',
  'req.headers.authorization',
  'config.mqtt.password',
  'config.inference.token',
];

export interface LogOptions {
  readonly level?: string;
  readonly pretty?: boolean;
  readonly destination?: DestinationStream;
  readonly base?: Record<string, unknown>;
  /** 1 = stdout (daemon, journald), 2 = stderr (one-shot commands keep stdout for results). */
  readonly fd?: 1 | 2;
}

export function createLogger(options: LogOptions = {}): Logger {
  const common = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '***' },
    base: options.base ?? { pid: process.pid },
    timestamp: stdTimeFunctions.isoTime,
  };
  if (options.pretty && !options.destination) {
    return pino({ ...common, transport: { target: 'pino-pretty', options: { colorize: true, destination: options.fd ?? 1 } } });
  }
  return pino(common, options.destination ?? destination({ fd: options.fd ?? 1, sync: options.fd === 2 }));
}

/** A logger that drops everything (tests, pure helpers). */
export const silentLogger: Logger = pino({ level: 'silent' });

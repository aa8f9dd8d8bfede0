import os from 'node:os';
import path from 'node:path';
import { AgentError } from '../errors.js';
import { isWritableDir, mkdirp, readTextMaybe } from '../../platform/fs.js';
import { resolveConfig, type ResolvedConfig } from './resolve.js';
import type { Config } from './schema.js';

export const DEFAULT_CONFIG_FILE = '/etc/jetson-agent/config.yaml';

export interface LoadOptions {
  /** Explicit --config: must exist. Without it the default file is used when present. */
  readonly configFile?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly overrides?: Readonly<Record<string, unknown>>;
}

export interface LoadedConfig extends ResolvedConfig {
  readonly configFile: string | undefined;
}

export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const file = options.configFile ?? DEFAULT_CONFIG_FILE;
  let text: string | undefined;
  try {
    text = await readTextMaybe(file);
  } catch (err) {
    throw new AgentError('CONFIG_UNREADABLE', `Cannot read ${file}: ${(err as Error).message}.`, {
      hint: 'Check the file permissions (the agent user must be able to read it).',
      cause: err,
    });
  }
  if (text === undefined && options.configFile !== undefined) {
    throw new AgentError('CONFIG_UNREADABLE', `Config file ${file} does not exist.`, {
      hint: 'Pass an existing file to --config, or omit --config to use the defaults.',
    });
  }
  const resolved = resolveConfig({
    ...(text === undefined ? {} : { fileText: text, fileName: file }),
    env: options.env ?? process.env,
    overrides: options.overrides ?? {},
  });
  return { ...resolved, configFile: text === undefined ? undefined : file };
}

/**
 * The state directory actually used: the configured one when set explicitly (it must be
 * writable), otherwise the default when writable (root on a board), otherwise a per-user
 * directory so `npm start` works for a normal user on a dev machine.
 */
export async function resolveStateDir(config: Config, explicit: ReadonlySet<string>): Promise<string> {
  const tryDir = async (dir: string): Promise<boolean> => {
    try {
      await mkdirp(dir, 0o750);
    } catch {
      return false;
    }
    return isWritableDir(dir);
  };
  if (explicit.has('stateDir')) {
    const dir = path.resolve(config.stateDir);
    if (await tryDir(dir)) return dir;
    throw new AgentError('STATE_DIR_UNWRITABLE', `State directory ${dir} cannot be created or written.`, {
      hint: 'Choose a writable directory with --state-dir, or run as a user that owns it.',
    });
  }
  if (await tryDir(config.stateDir)) return config.stateDir;
  const xdg = process.env.XDG_STATE_HOME;
  const fallback = xdg ? path.join(xdg, 'jetson-agent') : path.join(os.homedir(), '.local', 'state', 'jetson-agent');
  if (await tryDir(fallback)) return fallback;
  throw new AgentError('STATE_DIR_UNWRITABLE', `Neither ${config.stateDir} nor ${fallback} is writable.`, {
    hint: 'Pass --state-dir DIR with a directory you can write.',
  });
}

import { AgentError } from '../../core/errors.js';
import { isErrorCode } from '../../core/error-codes.js';
import type { AgentEnv } from '../types.js';

/** The running daemon's inference endpoint (inference.host:port), as the CLI reaches it. */
export function daemonUrl(env: AgentEnv, route: string): string {
  const { host, port } = env.config.inference;
  const target = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${target.includes(':') ? `[${target}]` : target}:${port}${route}`;
}

function headers(env: AgentEnv): Record<string, string> {
  const { token } = env.config.inference;
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Calls the daemon; network failure → MODEL_NOT_READY naming the URL; an error answer keeps its code. */
export async function daemonCall<T>(env: AgentEnv, route: string, init: { method?: 'GET' | 'POST'; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const url = daemonUrl(env, route);
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...headers(env) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal ? { signal: init.signal } : {}),
    });
  } catch (err) {
    throw new AgentError('MODEL_NOT_READY', `The daemon's inference endpoint at ${url} is not reachable.`, {
      cause: err,
      hint: 'Start the daemon (jetson-agent run) or check inference.host/inference.port.',
    });
  }
  const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string; hint?: string } };
  if (!res.ok) {
    const code = body.error?.code && isErrorCode(body.error.code) ? body.error.code : 'INTERNAL';
    throw new AgentError(code, body.error?.message ?? `HTTP ${res.status}`, body.error?.hint ? { hint: body.error.hint } : {});
  }
  return body as T;
}

/** What the daemon serves now, or null when no daemon answers (not running, other port). */
export async function daemonStatus(env: AgentEnv, signal?: AbortSignal): Promise<{ active: Ref | null; previous: Ref | null } | null> {
  try {
    return await daemonCall<{ active: Ref | null; previous: Ref | null }>(env, '/v1/models', signal ? { signal } : {});
  } catch (err) {
    if (err instanceof AgentError && err.code === 'MODEL_NOT_READY') return null;
    throw err;
  }
}
interface Ref {
  readonly name: string;
  readonly version: string;
}

/**
 * Calls to this agent. The token lives in the page (sessionStorage, this tab only) and travels in
 * the Authorization header, never in a cookie: another site cannot make the browser send it
 * (docs/console.md "Access").
 */
const KEY = 'jetson-agent-token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function token(): string {
  return sessionStorage.getItem(KEY) ?? '';
}

export function setToken(t: string): void {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

export function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

async function fail(res: Response): Promise<never> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  let hint: string | undefined;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; hint?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
    hint = body.error?.hint;
  } catch {
    // not JSON: keep the status line
  }
  throw new ApiError(res.status, code, message, hint);
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json', ...authHeaders() }, cache: 'no-store' });
  if (!res.ok) return fail(res);
  return (await res.json()) as T;
}

export async function postJson<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...authHeaders() },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) return fail(res);
  return (await res.json()) as T;
}

export async function postImage<T>(path: string, file: Blob, contentType: string): Promise<T> {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': contentType, ...authHeaders() }, body: file });
  if (!res.ok) return fail(res);
  return (await res.json()) as T;
}

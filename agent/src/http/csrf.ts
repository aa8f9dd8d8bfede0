import { AgentError } from '../core/errors.js';

/**
 * CSRF defence of the state-changing admin routes (docs/console.md "Access"). A browser
 * announces itself with `Origin` and/or `Sec-Fetch-Site` (https://fetch.spec.whatwg.org/#origin-header,
 * https://www.w3.org/TR/fetch-metadata/); the CLI and curl send neither.
 * - crossOriginRefusal: only this agent's own page may call (`Sec-Fetch-Site: same-origin`,
 *   `Origin` = this host). Checked before the token, so another site's request is refused for
 *   what it is.
 * - browserWithoutToken: from a browser, only with the token. Loopback alone is no credential
 *   for a browser: any page the user opens, or a DNS-rebinding host name, can make the browser
 *   send loopback requests. The console keeps the token in the page and sends it in
 *   `Authorization`, never a cookie, so another site cannot make the browser attach it.
 */
type Headers = Readonly<Record<string, string | string[] | undefined>>;
const one = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h[0] : h);

const fromBrowser = (h: Headers): boolean => one(h.origin) !== undefined || one(h['sec-fetch-site']) !== undefined;

export function crossOriginRefusal(headers: Headers): AgentError | undefined {
  if (!fromBrowser(headers)) return undefined;
  const origin = one(headers.origin);
  const site = one(headers['sec-fetch-site']);
  const host = one(headers.host);
  if ((site === undefined || site === 'same-origin') && (origin === undefined || origin === `http://${host}` || origin === `https://${host}`)) return undefined;
  return new AgentError('CROSS_ORIGIN_REFUSED', `Refused an admin request from another site (Origin ${origin ?? '(none)'}, Sec-Fetch-Site ${site ?? '(none)'}); nothing changed.`, {
    hint: "Use this board's own console, or `jetson-agent models activate` on the board.",
  });
}

export function browserWithoutToken(headers: Headers, tokenConfigured: boolean): AgentError | undefined {
  if (tokenConfigured || !fromBrowser(headers)) return undefined;
  return new AgentError('UNAUTHORIZED', 'Admin actions from a browser need inference.token, and none is set on this board.', {
    hint: 'Set inference.token (JETSON_AGENT_INFERENCE_TOKEN), restart the agent and enter the token in the console; or use `jetson-agent models activate` on the board.',
  });
}

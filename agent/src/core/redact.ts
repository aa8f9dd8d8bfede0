/**
 * Credentials inside URLs (`mqtt://user:pass@host`) are replaced by `***` wherever a URL is shown:
 * logs, `config print`, the MQTT `get-config` op (docs/reference/design-rules.md "Cross-cutting rules": secrets never leave the process).
 * Several comma-separated URLs (mqtt.url failover) are redacted one by one. The userinfo runs
 * up to the LAST `@` of the authority (RFC 3986 §3.2: `@` cannot appear in the host), so a
 * password containing an unencoded `@` is hidden whole.
 */
export function redactUrl(url: string): string {
  return url
    .split(',')
    .map((u) => {
      const scheme = u.indexOf('//');
      if (scheme < 0) return u;
      const rest = u.slice(scheme + 2);
      const slash = rest.indexOf('/');
      const authority = slash < 0 ? rest : rest.slice(0, slash);
      const at = authority.lastIndexOf('@');
      if (at < 0) return u;
      return `${u.slice(0, scheme + 2)}***${rest.slice(at)}`;
    })
    .join(',');
}

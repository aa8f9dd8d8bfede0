import { Value } from '@sinclair/typebox/value';
import { Kind, type TSchema } from '@sinclair/typebox';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { AgentError } from '../errors.js';
import { redactUrl } from '../redact.js';
import { ConfigSchema, type Config } from './schema.js';
import { configLeaves, describeType, ENV_PREFIX, keysAt, type ConfigLeaf } from './leaves.js';
import { suggest } from './suggest.js';

/**
 * Pure configuration resolution: YAML text (optional) → env overrides → CLI overrides →
 * defaults → validation. Every problem is collected and reported at once (issue #2 §5).
 */
export interface ConfigIssue {
  /** Dotted path (`inference.port`) or the env variable name. */
  readonly path: string;
  readonly message: string;
  readonly source: 'file' | 'env' | 'flag';
}

export interface ResolveInput {
  readonly fileText?: string;
  readonly fileName?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Dotted-path overrides from CLI flags, already typed. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

export interface ResolvedConfig {
  readonly config: Readonly<Config>;
  /** Dotted paths explicitly set by file, env or flag (for "was stateDir chosen?"). */
  readonly explicit: ReadonlySet<string>;
}

export class ConfigInvalidError extends AgentError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], fileName?: string) {
    const where = fileName ? ` in ${fileName}` : '';
    const lines = issues.map((i) => `  - ${i.path}: ${i.message}${i.source === 'file' ? '' : ` (from ${i.source})`}`);
    super('CONFIG_INVALID', `${issues.length} configuration problem(s)${where}:\n${lines.join('\n')}\n`, {
      hint: 'Fix the listed keys (docs/configuration.md lists every key, its type and default).',
      details: { issues: issues.map((i) => ({ ...i })) },
    });
    this.name = 'ConfigInvalidError';
    this.issues = issues;
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function setPath(target: Obj, path: readonly string[], value: unknown): void {
  let node = target;
  for (const seg of path.slice(0, -1)) {
    const next = node[seg];
    if (!isObj(next)) node[seg] = {};
    node = node[seg] as Obj;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

function collectUnknown(value: Obj, path: string[], issues: ConfigIssue[]): void {
  const allowed = keysAt(ConfigSchema, path);
  if (!allowed) return;
  for (const key of Object.keys(value)) {
    const dotted = [...path, key].join('.');
    if (!allowed.includes(key)) {
      const guess = suggest(key, allowed);
      issues.push({
        path: dotted,
        message: `unknown key${guess ? `; did you mean "${[...path, guess].join('.')}"?` : ''} (allowed here: ${allowed.join(', ')})`,
        source: 'file',
      });
      continue;
    }
    const child = value[key];
    if (isObj(child) && keysAt(ConfigSchema, [...path, key])) collectUnknown(child, [...path, key], issues);
  }
}

/** Parse one env string by the leaf's schema. Returns an issue message on failure. */
export function parseEnvValue(leaf: ConfigLeaf, raw: string): { value: unknown } | { error: string } {
  const kind = leaf.schema[Kind];
  const trimmed = raw.trim();
  const asNumber = (): { value: unknown } | { error: string } => {
    const n = Number(trimmed);
    return trimmed !== '' && Number.isFinite(n) ? { value: n } : { error: `expected ${describeType(leaf.schema)}, got "${raw}"` };
  };
  switch (kind) {
    case 'Integer':
    case 'Number':
      return asNumber();
    case 'Boolean':
      if (/^(1|true|yes|on)$/i.test(trimmed)) return { value: true };
      if (/^(0|false|no|off)$/i.test(trimmed)) return { value: false };
      return { error: `expected boolean (true/false), got "${raw}"` };
    case 'Array':
      if (trimmed.startsWith('[')) {
        try {
          return { value: JSON.parse(trimmed) as unknown };
        } catch {
          return { error: `expected a JSON array or a comma-separated list, got "${raw}"` };
        }
      }
      return { value: trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim()) };
    case 'Union': {
      const anyOf = (leaf.schema.anyOf ?? []) as TSchema[];
      if (anyOf.every((s) => typeof s.const === 'number')) return asNumber();
      return { value: raw };
    }
    default:
      return { value: raw };
  }
}

function formatValueError(error: { path: string; message: string; schema: TSchema; value: unknown }): ConfigIssue {
  const dotted = error.path.replace(/^\//, '').split('/').join('.') || '(root)';
  const got = error.value === undefined ? 'nothing' : JSON.stringify(error.value);
  return { path: dotted, message: `expected ${describeType(error.schema)}, got ${got}`, source: 'file' };
}

export function resolveConfig(input: ResolveInput): ResolvedConfig {
  const issues: ConfigIssue[] = [];
  const explicit = new Set<string>();
  let raw: Obj = {};

  if (input.fileText !== undefined && input.fileText.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = parseYaml(input.fileText, { prettyErrors: true });
    } catch (err) {
      const pos = err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}, column ${err.linePos[0].col}` : '';
      throw new AgentError('CONFIG_UNREADABLE', `${input.fileName ?? 'config'} is not valid YAML${pos}.`, {
        hint: 'Fix the YAML syntax (indentation, colons, quotes).',
        cause: err,
      });
    }
    if (parsed !== null && parsed !== undefined && !isObj(parsed)) {
      throw new AgentError('CONFIG_UNREADABLE', `${input.fileName ?? 'config'} must be a YAML mapping at the top level.`, {
        hint: 'Write key: value pairs, e.g. "mqtt:\\n  url: mqtt://broker:1883".',
      });
    }
    raw = (parsed as Obj | null) ?? {};
    collectUnknown(raw, [], issues);
    for (const leaf of configLeaves(ConfigSchema)) {
      let node: unknown = raw;
      for (const seg of leaf.path) node = isObj(node) ? node[seg] : undefined;
      if (node !== undefined) explicit.add(leaf.path.join('.'));
    }
  }

  const leaves = configLeaves(ConfigSchema);
  const env = input.env ?? {};
  const byEnv = new Map(leaves.map((l) => [l.envName, l]));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const leaf = byEnv.get(name);
    if (!leaf) {
      const guess = suggest(name, [...byEnv.keys()]);
      issues.push({ path: name, message: `unknown variable${guess ? `; did you mean ${guess}?` : ''}`, source: 'env' });
      continue;
    }
    const parsed = parseEnvValue(leaf, value);
    if ('error' in parsed) issues.push({ path: name, message: parsed.error, source: 'env' });
    else {
      setPath(raw, leaf.path, parsed.value);
      explicit.add(leaf.path.join('.'));
    }
  }

  for (const [dotted, value] of Object.entries(input.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(raw, dotted.split('.'), value);
    explicit.add(dotted);
  }

  // Drop unknown keys before defaulting so one typo does not hide the type errors.
  const cleaned = Value.Clean(ConfigSchema, structuredClone(raw));
  const withDefaults = Value.Default(ConfigSchema, cleaned);
  for (const error of Value.Errors(ConfigSchema, withDefaults)) {
    const issue = formatValueError(error);
    const envLeaf = leaves.find((l) => l.path.join('.') === issue.path);
    const fromEnv = envLeaf && env[envLeaf.envName] !== undefined;
    const fromFlag = Object.hasOwn(input.overrides ?? {}, issue.path);
    issues.push({ ...issue, source: fromFlag ? 'flag' : fromEnv ? 'env' : 'file' });
  }
  // Union errors are reported once per branch; keep one line per path.
  const unique = issues.filter((i, idx) => issues.findIndex((j) => j.path === i.path) === idx);
  if (unique.length > 0) throw new ConfigInvalidError(unique, input.fileName);
  return { config: deepFreeze(withDefaults as Config), explicit };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The effective config with secrets replaced (for `config print` and logs). */
export function redactConfig(config: Config): Obj {
  const copy = structuredClone(config) as unknown as Obj;
  for (const leaf of configLeaves(ConfigSchema)) {
    if (!leaf.secret) continue;
    let node: unknown = copy;
    for (const seg of leaf.path.slice(0, -1)) node = isObj(node) ? node[seg] : undefined;
    const last = leaf.path[leaf.path.length - 1];
    if (isObj(node) && last !== undefined && node[last] !== '' && node[last] !== undefined) node[last] = '***';
  }
  // A password can also sit in the broker URL (mqtt://user:pass@host): shown as the logs show it.
  const mqtt = copy.mqtt;
  if (isObj(mqtt) && typeof mqtt.url === 'string') mqtt.url = redactUrl(mqtt.url);
  return copy;
}

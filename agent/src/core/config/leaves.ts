import { Kind, type TSchema } from '@sinclair/typebox';

/** One configurable value: its path, schema and env variable name. */
export interface ConfigLeaf {
  readonly path: readonly string[];
  readonly schema: TSchema;
  readonly envName: string;
  readonly secret: boolean;
}

export const ENV_PREFIX = 'JETSON_AGENT_';

/** `maxPackageBytes` → `MAX_PACKAGE_BYTES` */
export function toUpperSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export function envNameFor(path: readonly string[]): string {
  return ENV_PREFIX + path.map(toUpperSnake).join('_');
}

function isObjectSchema(schema: TSchema): schema is TSchema & { properties: Record<string, TSchema> } {
  return schema[Kind] === 'Object';
}

/** Every leaf of the schema (objects are recursed into; arrays are leaves). */
export function configLeaves(schema: TSchema, prefix: readonly string[] = []): ConfigLeaf[] {
  if (!isObjectSchema(schema)) return [];
  const out: ConfigLeaf[] = [];
  for (const [key, child] of Object.entries(schema.properties)) {
    const path = [...prefix, key];
    if (isObjectSchema(child)) out.push(...configLeaves(child, path));
    else out.push({ path, schema: child, envName: envNameFor(path), secret: child.secret === true });
  }
  return out;
}

/** Keys allowed at a given object path, for unknown-key suggestions. */
export function keysAt(schema: TSchema, path: readonly string[]): string[] | undefined {
  let node: TSchema = schema;
  for (const seg of path) {
    if (!isObjectSchema(node)) return undefined;
    const next = node.properties[seg];
    if (!next) return undefined;
    node = next;
  }
  return isObjectSchema(node) ? Object.keys(node.properties) : undefined;
}

/** A short human name of the expected type, for error messages. */
export function describeType(schema: TSchema): string {
  const kind = schema[Kind];
  switch (kind) {
    case 'Union': {
      const anyOf = (schema.anyOf ?? []) as TSchema[];
      return anyOf.map((s) => (s.const !== undefined ? JSON.stringify(s.const) : describeType(s))).join(' | ');
    }
    case 'Literal':
      return JSON.stringify(schema.const);
    case 'Array':
      return `array of ${describeType(schema.items as TSchema)}`;
    case 'Integer':
      return 'integer' + rangeText(schema);
    case 'Number':
      return 'number' + rangeText(schema);
    case 'String':
      return schema.pattern ? `string matching ${String(schema.pattern)}` : 'string';
    case 'Boolean':
      return 'boolean';
    case 'Object':
      return 'object';
    default:
      return kind.toLowerCase();
  }
}

function rangeText(schema: TSchema): string {
  const min = schema.minimum as number | undefined;
  const max = schema.maximum as number | undefined;
  if (min !== undefined && max !== undefined) return ` in [${min}, ${max}]`;
  if (min !== undefined) return ` ≥ ${min}`;
  if (max !== undefined) return ` ≤ ${max}`;
  return '';
}

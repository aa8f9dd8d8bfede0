import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { AgentError } from '../core/errors.js';
import type { DeviceRecord } from './types.js';

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()], { default: null });

/** One device as `--devices-file` gives it: the same facts the retained status/health carry. */
const DeviceRecordSchema = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    online: Type.Boolean(),
    /** ms since the epoch, or an ISO-8601 string. */
    lastSeen: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ minLength: 1 }), Type.Null()], { default: null }),
    groups: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    board: Type.Object(
      {
        soc: Nullable(Type.String()),
        cudaArch: Nullable(Type.Integer({ minimum: 0 })),
        tensorrt: Nullable(Type.String()),
        jetpack: Nullable(Type.String()),
      },
      { default: {} },
    ),
    freeDiskBytes: Nullable(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: true },
);
type RawRecord = Static<typeof DeviceRecordSchema>;

const fail = (source: string, problems: string[]): AgentError =>
  new AgentError('FLEET_DEVICES_FILE_INVALID', `${source}: ${problems.length} problem(s): ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? '; …' : ''}`, {
    hint: 'Give a JSON array (or {"devices": [...]}) of {id, online, lastSeen, groups, board: {soc, cudaArch, tensorrt, jetpack}, freeDiskBytes}; see docs/rollouts.md.',
    details: { problems },
  });

/** Parse and validate a devices file (pure: the caller reads it). Every problem is reported at once. */
export function parseDevicesFile(text: string, source = 'devices file'): DeviceRecord[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw fail(source, [`not valid JSON (${err instanceof Error ? err.message : String(err)})`]);
  }
  const list: unknown = Array.isArray(raw) ? raw : (raw as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(list)) throw fail(source, ['expected a JSON array of device records or {"devices": [...]}']);
  const withDefaults: unknown[] = list.map((d) => Value.Default(DeviceRecordSchema, structuredClone(d)));
  const problems: string[] = [];
  const seen = new Set<string>();
  withDefaults.forEach((d, i) => {
    for (const e of Value.Errors(DeviceRecordSchema, d)) problems.push(`[${i}]${e.path.replaceAll('/', '.')}: ${e.message}`);
    const rec = d as Partial<Record<keyof RawRecord, unknown>> | null;
    if (typeof rec?.lastSeen === 'string' && Number.isNaN(Date.parse(rec.lastSeen))) problems.push(`[${i}].lastSeen: not an ISO-8601 date`);
    if (typeof rec?.id !== 'string') return;
    if (seen.has(rec.id)) problems.push(`duplicate device id "${rec.id}"`);
    seen.add(rec.id);
  });
  if (problems.length || !Value.Check(Type.Array(DeviceRecordSchema), withDefaults)) throw fail(source, problems.length ? problems : ['invalid device records']);
  return withDefaults.map((d) => ({
    id: d.id,
    online: d.online,
    lastSeen: typeof d.lastSeen === 'string' ? Date.parse(d.lastSeen) : d.lastSeen,
    groups: d.groups,
    board: { soc: d.board.soc, cudaArch: d.board.cudaArch, tensorrt: d.board.tensorrt, jetpack: d.board.jetpack },
    freeDiskBytes: d.freeDiskBytes,
  }));
}

import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import path from 'node:path';
import { AgentError } from '../core/errors.js';
import { fsyncDir, removePath, writeJsonAtomic } from '../platform/fs.js';
import { readRegularNoFollow } from '../platform/private-dir.js';
import type { PluginRecords } from './records.js';

/**
 * Intent journal: written (atomically) before the library directory is touched and removed
 * after the outcome is recorded, so a crash at any instant leaves a record of what was
 * under way. Recovery (recover.ts) finishes or rolls back from it. Both files live in the
 * root-only records directory (records.ts) and are validated against these schemas on every
 * read: a damaged record stops the operation with PLUGIN_RECORDS_INVALID instead of steering it.
 */
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const BoardPath = Type.String({ pattern: '^/[^\\0]*$', maxLength: 4096 });
const Package = Type.Union([Type.Object({ name: Type.String({ maxLength: 256 }), version: Type.String({ maxLength: 256 }) }, { additionalProperties: false }), Type.Null()]);

export const InstalledRecordSchema = Type.Object(
  {
    /** Board path of the system file that now holds the custom build. */
    library: BoardPath,
    sha256: Sha256,
    backup: Type.Object({ dir: Type.String({ maxLength: 4096 }), sha256: Sha256 }, { additionalProperties: false }),
    builtFor: Type.Union([Type.Object({ arch: Type.String(), branch: Type.String(), tensorrt: Type.String() }, { additionalProperties: false }), Type.Null()]),
    /** Package owning the library at swap time (drift: its version changed). */
    package: Package,
    diversion: Type.Union([Type.Object({ divertTo: BoardPath }, { additionalProperties: false }), Type.Null()]),
    source: Type.String({ maxLength: 4096 }),
    installedAt: Type.String(),
  },
  { additionalProperties: false },
);
export type InstalledRecord = Static<typeof InstalledRecordSchema>;

export const JournalSchema = Type.Union([
  Type.Object(
    {
      op: Type.Literal('install'),
      target: BoardPath,
      linkName: Type.String({ pattern: '^libnvinfer_plugin\\.so\\.\\d+$' }),
      /** Bytes at the target before this operation (original or a previous custom build). */
      oldSha: Sha256,
      newSha: Sha256,
      backupSha: Sha256,
      /** Whether this operation registers the diversion (undo it when rolling back). */
      addsDiversion: Type.Boolean(),
      record: InstalledRecordSchema,
      startedAt: Type.String(),
      /** The process that wrote it (the unprivileged status tells "under way" from "interrupted"). */
      pid: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      op: Type.Literal('restore'),
      target: BoardPath,
      linkName: Type.String({ pattern: '^libnvinfer_plugin\\.so\\.\\d+$' }),
      backupSha: Sha256,
      fromSha: Sha256,
      startedAt: Type.String(),
      pid: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  ),
]);
export type Journal = Static<typeof JournalSchema>;

const MAX_RECORD_BYTES = 256 * 1024;

/** Read and validate a JSON record; undefined when absent. */
export async function readRecordFile<S extends TSchema>(file: string, schema: S, what: string): Promise<Static<S> | undefined> {
  const invalid = (why: string): AgentError =>
    new AgentError('PLUGIN_RECORDS_INVALID', `The plugin ${what} ${file} is damaged (${why}); nothing was changed.`, {
      hint: `Check the library with \`jetson-agent plugin status\` (reinstall the TensorRT plugin package if it is damaged: apt-get install --reinstall libnvinfer-plugin<MAJOR>), then move ${file} aside as root and retry.`,
      details: { file },
    });
  let raw: Awaited<ReturnType<typeof readRegularNoFollow>>;
  try {
    raw = await readRegularNoFollow(file, MAX_RECORD_BYTES);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw err;
    throw invalid(code === 'ELOOP' ? 'a symbolic link' : code === 'EFBIG' ? `larger than ${MAX_RECORD_BYTES} bytes` : String(code ?? err));
  }
  if (!raw) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw.data.toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  if (!Value.Check(schema, value)) {
    const first = Value.Errors(schema, value).First();
    throw invalid(first ? `${first.path || '/'}: ${first.message}` : 'does not match its schema');
  }
  return value;
}

export async function readJournal(records: PluginRecords): Promise<Journal | undefined> {
  return readRecordFile(records.journalFile, JournalSchema, 'journal');
}

export async function writeJournal(records: PluginRecords, j: Journal): Promise<void> {
  await writeJsonAtomic(records.journalFile, { ...j, pid: process.pid }, { mode: 0o600 });
}

export async function clearJournal(records: PluginRecords): Promise<void> {
  await removePath(records.journalFile);
  await fsyncDir(path.dirname(records.journalFile));
}

export async function readInstalled(records: PluginRecords): Promise<InstalledRecord | undefined> {
  return readRecordFile(records.installedFile, InstalledRecordSchema, 'installed record');
}

export async function writeInstalled(records: PluginRecords, r: InstalledRecord): Promise<void> {
  await writeJsonAtomic(records.installedFile, r, { mode: 0o600 });
}

export async function clearInstalled(records: PluginRecords): Promise<void> {
  await removePath(records.installedFile);
  await fsyncDir(path.dirname(records.installedFile));
}

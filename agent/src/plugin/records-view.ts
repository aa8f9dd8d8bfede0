import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import path from 'node:path';
import { readTextMaybe, writeJsonAtomic } from '../platform/fs.js';
import { withOwnedSubdir } from '../platform/owned-subdir.js';
import { listBackups } from './backup.js';
import type { PluginContext } from './context.js';
import { InstalledRecordSchema, readInstalled, readJournal } from './journal.js';
import type { PluginStatePaths } from './state-paths.js';

/**
 * The records directory is root's and 0700, so the unprivileged agent (daemon drift check,
 * MQTT `plugin-status`) cannot read it. Root publishes what the status needs into the
 * agent's exchange directory, `<stateDir>/plugin/records.json` (0644, root's): the installed
 * record, the journal's op/start/pid, the verified backups. Root never reads this file; the
 * agent could only mislead itself by changing it. Published after every locked operation
 * and when a journal is written (so an interrupted swap shows as one).
 */
export const RecordsViewSchema = Type.Object(
  {
    version: Type.Literal(1),
    publishedAt: Type.String(),
    installed: Type.Union([InstalledRecordSchema, Type.Null()]),
    journal: Type.Union([Type.Object({ op: Type.Union([Type.Literal('install'), Type.Literal('restore')]), startedAt: Type.String(), pid: Type.Optional(Type.Integer()) }), Type.Null()]),
    backups: Type.Array(Type.Object({ sha256: Type.String(), file: Type.String() })),
  },
  { additionalProperties: false },
);
export type RecordsView = Static<typeof RecordsViewSchema>;

export async function recordsView(ctx: PluginContext): Promise<RecordsView> {
  const [installed, journal, backups] = await Promise.all([readInstalled(ctx.records), readJournal(ctx.records), listBackups(ctx.records)]);
  return {
    version: 1,
    publishedAt: ctx.now().toISOString(),
    installed: installed ?? null,
    journal: journal ? { op: journal.op, startedAt: journal.startedAt, ...(journal.pid ? { pid: journal.pid } : {}) } : null,
    backups: backups.map((b) => ({ sha256: b.manifest.sha256, file: b.file })),
  };
}

/** Publish the view; never fails the operation (a warning says why it could not). */
export async function publishRecordsView(ctx: PluginContext): Promise<void> {
  try {
    const view = await recordsView(ctx);
    const done = await withOwnedSubdir(
      ctx.state.stateDir,
      path.basename(ctx.state.pluginDir),
      async (dir) => {
        await writeJsonAtomic(dir.at(path.basename(ctx.state.viewFile)), view, { mode: 0o644 });
        return true;
      },
      { create: 0o750 },
    );
    if (!done) ctx.log.warn({ stateDir: ctx.state.stateDir }, 'plugin records view not published: the state dir or its plugin/ dir is missing, a symlink or foreign');
  } catch (err) {
    ctx.log.warn({ err, stateDir: ctx.state.stateDir }, 'plugin records view not published');
  }
}

/** The view root published, or undefined (missing or damaged). */
export async function readRecordsView(state: PluginStatePaths): Promise<RecordsView | undefined> {
  const text = await readTextMaybe(state.viewFile);
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return Value.Check(RecordsViewSchema, v) ? v : undefined;
  } catch {
    return undefined;
  }
}

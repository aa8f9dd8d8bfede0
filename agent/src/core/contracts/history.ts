import { Type, type Static } from '@sinclair/typebox';

/**
 * This board's deployment history, `{stateDir}/deployments/history.json` (docs/console.md):
 * every deployment that ended (MQTT or inbox, any terminal state, with its error) and every switch
 * of the serving model outside a deployment (start, `models activate`, the console, rollback).
 * Written by the composition root, read by the console. Newest last, bounded.
 */
export const HISTORY_VERSION = 1;
export const HISTORY_MAX_ENTRIES = 100;

const Ref = Type.Object({ name: Type.String(), version: Type.String() }, { additionalProperties: false });

export const HistoryEntrySchema = Type.Object(
  {
    at: Type.String({ description: 'ISO-8601 time the deployment ended or the switch happened.' }),
    kind: Type.Union([Type.Literal('deployment'), Type.Literal('switch')]),
    /** Deployments: the id, source and terminal state. */
    deploymentId: Type.Optional(Type.String()),
    source: Type.Optional(Type.Union([Type.Literal('mqtt'), Type.Literal('inbox')])),
    state: Type.Optional(Type.String()),
    model: Type.Union([Ref, Type.Null()]),
    previous: Type.Union([Ref, Type.Null()]),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export const HistoryFileSchema = Type.Object(
  { v: Type.Literal(HISTORY_VERSION), entries: Type.Array(HistoryEntrySchema) },
  { additionalProperties: false },
);

export type HistoryEntry = Static<typeof HistoryEntrySchema>;
export type HistoryFile = Static<typeof HistoryFileSchema>;

import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { createHash } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import path from 'node:path';
import { fsp, writeJsonAtomic } from '../platform/fs.js';
import { run, tailLines } from '../platform/exec.js';
import { readBeneathNoFollow, withOwnedSubdir, type OwnedSubdir } from '../platform/owned-subdir.js';
import { readRegularNoFollow } from '../platform/private-dir.js';

/**
 * The privileged half of design B (docs/provisioning.md "Plugin helper"): the unprivileged
 * agent writes `<stateDir>/plugin/request.json`; jetson-agent-plugin.path starts this helper
 * as root. The request is all the agent gives it (issue #14): the helper takes it away first
 * (PathExists= would re-trigger otherwise), validates every field against RequestSchema,
 * for `install` copies the artifact into its root-only runtime dir while hashing it (the
 * agent owns the state dir and could swap the file after a check; the copy cannot change),
 * runs `jetson-agent plugin install|restore` (which takes the target library, its mode and
 * owner, the records and the backups from nowhere the agent can write), and writes
 * `<stateDir>/plugin/result.json`. Every access to the agent's directories goes through
 * handles opened without following symlinks (owned-subdir.ts).
 */
export const REQUEST_VERSION = 1;
const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024;

const Id = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' });
/** Relative to the state dir: plain file-name characters, no `.`/`..` or empty components, no leading `/`. */
const Artifact = Type.String({ pattern: '^(?!(?:.*/)?\\.{1,2}(?:/|$))[A-Za-z0-9._+-]+(?:/[A-Za-z0-9._+-]+)*$', maxLength: 1024 });
export const RequestSchema = Type.Union([
  Type.Object({ version: Type.Literal(1), id: Id, op: Type.Literal('install'), artifact: Artifact, sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, { additionalProperties: false }),
  Type.Object({ version: Type.Literal(1), id: Id, op: Type.Literal('restore') }, { additionalProperties: false }),
]);

export type PluginOp = 'install' | 'restore';

export interface PluginRequest {
  readonly version: 1;
  readonly id: string;
  readonly op: PluginOp;
  /** install only: path relative to the state dir, e.g. `builds/<key>/libnvinfer_plugin.so.8.6.2`. */
  readonly artifact?: string;
  readonly sha256?: string;
}

export interface PluginResult {
  readonly version: 1;
  readonly id: string | null;
  readonly op: PluginOp | null;
  readonly ok: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly exitCode: number | null;
  /** Parsed `--json` stdout of the agent command, when it printed JSON. */
  readonly output: unknown;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly stderrTail: string;
}

export interface HelperOptions {
  readonly stateDir: string;
  /** Root-only scratch dir (the unit's RuntimeDirectory). */
  readonly workDir: string;
  /** `agent/dist/main.js` of this release. */
  readonly agentMain: string;
  readonly node?: string;
  readonly now?: () => Date;
  readonly timeoutMs?: number;
}

class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Pure: validate a parsed request against RequestSchema; throws RequestError naming the first problem. */
export function parseRequest(value: unknown): PluginRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RequestError('PLUGIN_REQUEST_INVALID', 'request is not a JSON object');
  const v = value as Record<string, unknown>;
  if (v.version !== REQUEST_VERSION) throw new RequestError('PLUGIN_REQUEST_INVALID', `unsupported request version ${JSON.stringify(v.version)} (expected ${REQUEST_VERSION})`);
  if (typeof v.id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(v.id)) throw new RequestError('PLUGIN_REQUEST_INVALID', 'id must match [A-Za-z0-9._-]{1,64}');
  if (v.op !== 'install' && v.op !== 'restore') throw new RequestError('PLUGIN_REQUEST_INVALID', `op must be "install" or "restore", got ${JSON.stringify(v.op)}`);
  if (!Value.Check(RequestSchema, value)) {
    const e = [...Value.Errors(RequestSchema, value)].find((x) => x.path !== '' && x.path !== '/op') ?? Value.Errors(RequestSchema, value).First();
    const field = e?.path.replace(/^\//, '') || 'request';
    throw new RequestError(
      'PLUGIN_REQUEST_INVALID',
      v.op === 'install' && (field === 'artifact' || field === 'sha256')
        ? `install needs ${field === 'artifact' ? 'artifact: a relative path inside the state dir without "." / ".." or empty components' : 'sha256 (64 lowercase hex digits)'}`
        : `${field}: ${e?.message ?? 'invalid'} (a ${v.op} request has exactly the fields of docs/provisioning.md "Plugin helper")`,
    );
  }
  const r = value as PluginRequest;
  return r.op === 'install' ? { version: 1, id: r.id, op: 'install', artifact: r.artifact ?? '', sha256: r.sha256 ?? '' } : { version: 1, id: r.id, op: 'restore' };
}

/** Copy the artifact into the root-only work dir and check its hash on the copy. */
async function stageArtifact(opts: HelperOptions, req: PluginRequest): Promise<string> {
  const rel = req.artifact ?? '';
  let data: Buffer | undefined;
  try {
    // No symlink anywhere under the state dir is followed: the agent owns every directory there.
    data = await readBeneathNoFollow(opts.stateDir, rel, MAX_ARTIFACT_BYTES);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RequestError('PLUGIN_REQUEST_INVALID', `artifact ${rel}: ${code === 'ELOOP' ? 'a symbolic link on the way (never followed)' : code === 'EINVAL' ? 'not a regular file' : code === 'EFBIG' ? `larger than ${MAX_ARTIFACT_BYTES} bytes` : String(code ?? err)}`);
  }
  if (!data) throw new RequestError('PLUGIN_ARTIFACT_MISSING', `artifact ${rel} does not exist in the state dir`);
  const actual = createHash('sha256').update(data).digest('hex');
  if (actual !== req.sha256) throw new RequestError('PLUGIN_ARTIFACT_HASH_MISMATCH', `artifact sha256 is ${actual}, request says ${req.sha256 ?? ''}`);
  // Keep the original file name: the swap keeps the system file name and checks SONAME.
  const staged = path.join(opts.workDir, req.id, path.posix.basename(rel));
  // A helper killed mid-request (the unit normally removes its RuntimeDirectory) leaves its copy.
  await fsp.rm(path.dirname(staged), { recursive: true, force: true });
  await fsp.mkdir(path.dirname(staged), { recursive: true, mode: 0o700 });
  await fsp.writeFile(staged, data, { mode: 0o600, flag: fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW });
  return staged;
}

function parseJsonMaybe(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** Take request.json away (rename in the pinned dir, then read it there with O_NOFOLLOW and delete it). */
async function takeRequest(dir: OwnedSubdir): Promise<Buffer | RequestError | undefined> {
  try {
    // Same directory → atomic; from here on PathExists= is false whatever happens.
    await fsp.rename(dir.at('request.json'), dir.at('request.processing.json'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const r = await readRegularNoFollow(dir.at('request.processing.json'), MAX_REQUEST_BYTES);
    return r?.data ?? new RequestError('PLUGIN_REQUEST_INVALID', 'request.json vanished while being read');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP: a symlink the agent planted; EINVAL: a FIFO or directory; EFBIG: too large.
    return new RequestError('PLUGIN_REQUEST_INVALID', `request.json: ${code === 'ELOOP' ? 'a symbolic link (never followed)' : code === 'EINVAL' ? 'not a regular file' : code === 'EFBIG' ? `larger than ${MAX_REQUEST_BYTES} bytes` : String(code ?? err)}`);
  } finally {
    await fsp.rm(dir.at('request.processing.json'), { force: true, recursive: false }).catch(() => undefined);
  }
}

/**
 * Handle one request. Returns undefined when there was none (the path unit can race with
 * a previous run, or the state dir / its plugin/ dir is missing or a symlink), otherwise the
 * result that was written.
 */
export async function handlePluginRequest(opts: HelperOptions): Promise<PluginResult | undefined> {
  const now = opts.now ?? (() => new Date());
  const r = await withOwnedSubdir(opts.stateDir, 'plugin', async (dir) => {
    const taken = await takeRequest(dir);
    if (taken === undefined) return undefined;
    const startedAt = now().toISOString();
    let req: PluginRequest | undefined;
    let result: Omit<PluginResult, 'finishedAt' | 'startedAt' | 'version' | 'id' | 'op'>;
    try {
      if (taken instanceof RequestError) throw taken;
      const parsed = parseJsonMaybe(taken.toString('utf8'));
      if (parsed === null) throw new RequestError('PLUGIN_REQUEST_INVALID', 'request.json is not valid JSON');
      req = parseRequest(parsed);
      const args = ['plugin', req.op, '--state-dir', opts.stateDir, '--json'];
      // The hash was checked on the private copy just made; `plugin install` re-checks the ELF.
      if (req.op === 'install') args.push('--from', await stageArtifact(opts, req));
      const c = await run(opts.node ?? process.execPath, [opts.agentMain, ...args], { reject: false, timeoutMs: opts.timeoutMs ?? 9 * 60_000 });
      const output = parseJsonMaybe(c.stdout.trim());
      result = {
        ok: c.exitCode === 0,
        exitCode: c.exitCode,
        output,
        error: c.exitCode === 0 ? null : { code: 'PLUGIN_COMMAND_FAILED', message: `jetson-agent plugin ${req.op} exited ${c.exitCode}` },
        stderrTail: tailLines(c.stderr),
      };
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      result = { ok: false, exitCode: null, output: null, error: { code: err.code, message: err.message }, stderrTail: '' };
    } finally {
      if (req?.op === 'install') await fsp.rm(path.join(opts.workDir, req.id), { recursive: true, force: true });
    }
    const full: PluginResult = { version: 1, id: req?.id ?? null, op: req?.op ?? null, startedAt, finishedAt: now().toISOString(), ...result };
    // The agent must be able to read (and delete) the result: give it to the state dir's owner
    // through the temp file's handle before the rename (never by path after: the agent owns this directory).
    await writeJsonAtomic(dir.at('result.json'), full, { mode: 0o640, owner: dir.owner });
    return full;
  });
  return r ?? undefined;
}

import { constants as fsc, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fsp, writeJsonAtomic } from '../platform/fs.js';
import { run, tailLines } from '../platform/exec.js';

/**
 * The privileged half of design B (operations.md §3.5): the unprivileged agent writes
 * `<stateDir>/plugin/request.json`; jetson-agent-plugin.path starts this helper as root;
 * it takes the request away first (PathExists= would re-trigger otherwise), validates it,
 * copies the artifact into a root-only work dir while hashing it (the agent owns the state
 * dir and could swap the file after a check; the copy cannot change), runs
 * `jetson-agent plugin install|restore`, and writes `<stateDir>/plugin/result.json`.
 * Format: docs/provisioning.md "Plugin helper".
 */
export const REQUEST_VERSION = 1;
const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_ARTIFACT_BYTES = 1024 * 1024 * 1024;
const ID = /^[A-Za-z0-9._-]{1,64}$/;
const SHA256 = /^[0-9a-f]{64}$/;

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

/** Pure: validate a parsed request; throws RequestError with a message an operator can act on. */
export function parseRequest(value: unknown): PluginRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new RequestError('PLUGIN_REQUEST_INVALID', 'request is not a JSON object');
  const v = value as Record<string, unknown>;
  if (v.version !== REQUEST_VERSION) throw new RequestError('PLUGIN_REQUEST_INVALID', `unsupported request version ${JSON.stringify(v.version)} (expected ${REQUEST_VERSION})`);
  if (typeof v.id !== 'string' || !ID.test(v.id)) throw new RequestError('PLUGIN_REQUEST_INVALID', 'id must match [A-Za-z0-9._-]{1,64}');
  if (v.op === 'restore') return { version: 1, id: v.id, op: 'restore' };
  if (v.op !== 'install') throw new RequestError('PLUGIN_REQUEST_INVALID', `op must be "install" or "restore", got ${JSON.stringify(v.op)}`);
  if (typeof v.sha256 !== 'string' || !SHA256.test(v.sha256)) throw new RequestError('PLUGIN_REQUEST_INVALID', 'install needs sha256 (64 lowercase hex digits)');
  if (typeof v.artifact !== 'string' || v.artifact === '' || path.posix.isAbsolute(v.artifact) || v.artifact.split('/').some((p) => p === '..' || p === '')) {
    throw new RequestError('PLUGIN_REQUEST_INVALID', 'install needs artifact: a relative path inside the state dir without ".." or empty components');
  }
  return { version: 1, id: v.id, op: 'install', artifact: v.artifact, sha256: v.sha256 };
}

/** Read a file the agent controls: never follow a final symlink, only regular files, bounded size. */
async function readOwnedFile(file: string, max: number): Promise<{ data: Buffer; stat: Stats }> {
  const fh = await fsp.open(file, fsc.O_RDONLY | fsc.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    // ELOOP: the final component is a symlink the agent planted.
    throw new RequestError(err.code === 'ELOOP' ? 'PLUGIN_REQUEST_INVALID' : 'PLUGIN_ARTIFACT_MISSING', `cannot open ${path.basename(file)}: ${err.code ?? err.message}`);
  });
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new RequestError('PLUGIN_REQUEST_INVALID', `${file} is not a regular file`);
    if (stat.size > max) throw new RequestError('PLUGIN_REQUEST_INVALID', `${file} is larger than ${max} bytes`);
    return { data: await fh.readFile(), stat };
  } finally {
    await fh.close();
  }
}

/** Copy the artifact into the root-only work dir and check its hash on the copy. */
async function stageArtifact(opts: HelperOptions, req: PluginRequest): Promise<string> {
  const src = path.join(opts.stateDir, req.artifact ?? '');
  // Intermediate directories are the agent's: resolve them and stay inside the state dir.
  const realDir = await fsp.realpath(path.dirname(src)).catch(() => {
    throw new RequestError('PLUGIN_ARTIFACT_MISSING', `artifact directory of ${req.artifact ?? ''} does not exist`);
  });
  const realState = await fsp.realpath(opts.stateDir);
  if (realDir !== realState && !realDir.startsWith(realState + path.sep)) throw new RequestError('PLUGIN_REQUEST_INVALID', 'artifact resolves outside the state dir');
  const { data } = await readOwnedFile(path.join(realDir, path.basename(src)), MAX_ARTIFACT_BYTES);
  const actual = createHash('sha256').update(data).digest('hex');
  if (actual !== req.sha256) throw new RequestError('PLUGIN_ARTIFACT_HASH_MISMATCH', `artifact sha256 is ${actual}, request says ${req.sha256 ?? ''}`);
  // Keep the original file name: the swap keeps the system file name and checks SONAME.
  const staged = path.join(opts.workDir, req.id, path.basename(src));
  await fsp.mkdir(path.dirname(staged), { recursive: true, mode: 0o700 });
  await fsp.writeFile(staged, data, { mode: 0o644 });
  return staged;
}

function parseJsonMaybe(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/**
 * Handle one request. Returns undefined when there was none (the path unit can race with
 * a previous run), otherwise the result that was written.
 */
export async function handlePluginRequest(opts: HelperOptions): Promise<PluginResult | undefined> {
  const now = opts.now ?? (() => new Date());
  const dir = path.join(opts.stateDir, 'plugin');
  const request = path.join(dir, 'request.json');
  const taken = path.join(dir, 'request.processing.json');
  try {
    // Same directory → atomic; from here on PathExists= is false whatever happens.
    await fsp.rename(request, taken);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const startedAt = now().toISOString();
  let req: PluginRequest | undefined;
  let result: Omit<PluginResult, 'finishedAt' | 'startedAt' | 'version' | 'id' | 'op'>;
  try {
    let raw: Buffer;
    try {
      raw = (await readOwnedFile(taken, MAX_REQUEST_BYTES)).data;
    } finally {
      await fsp.rm(taken, { force: true });
    }
    const parsed = parseJsonMaybe(raw.toString('utf8'));
    if (parsed === null) throw new RequestError('PLUGIN_REQUEST_INVALID', 'request.json is not valid JSON');
    req = parseRequest(parsed);
    const args = ['plugin', req.op, '--state-dir', opts.stateDir, '--json'];
    // The hash was checked on the private copy just made; `plugin install` re-checks the ELF.
    if (req.op === 'install') args.push('--from', await stageArtifact(opts, req));
    const r = await run(opts.node ?? process.execPath, [opts.agentMain, ...args], { reject: false, timeoutMs: opts.timeoutMs ?? 9 * 60_000 });
    const output = parseJsonMaybe(r.stdout.trim());
    result = {
      ok: r.exitCode === 0,
      exitCode: r.exitCode,
      output,
      error: r.exitCode === 0 ? null : { code: 'PLUGIN_COMMAND_FAILED', message: `jetson-agent plugin ${req.op} exited ${r.exitCode}` },
      stderrTail: tailLines(r.stderr),
    };
  } catch (err) {
    if (!(err instanceof RequestError)) throw err;
    result = { ok: false, exitCode: null, output: null, error: { code: err.code, message: err.message }, stderrTail: '' };
  } finally {
    if (req?.op === 'install') await fsp.rm(path.join(opts.workDir, req.id), { recursive: true, force: true });
  }
  const full: PluginResult = { version: 1, id: req?.id ?? null, op: req?.op ?? null, startedAt, finishedAt: now().toISOString(), ...result };
  const resultFile = path.join(dir, 'result.json');
  // The agent must be able to read (and delete) the result: give it to the state dir's owner,
  // on the temp file before the rename (never by path after: the agent owns this directory).
  const owner = await fsp.stat(opts.stateDir);
  await writeJsonAtomic(resultFile, full, { mode: 0o640, owner: { uid: owner.uid, gid: owner.gid } });
  return full;
}

import { parse } from 'yaml';
import { AgentError } from '../core/errors.js';
import { isNotFound, readText, statMaybe } from '../platform/fs.js';

/**
 * Model keys (docs/reference/design-rules.md "Cross-cutting rules", secrets; issue #4 §4): a YAML file readable by its owner only,
 * `keys: {<keyRef>: <key>}`, read when a key is needed and not kept. Keys never appear in
 * errors, logs (pino redacts `key`/`modelKey`), MQTT or HTTP payloads: messages name the
 * keyRef only.
 */
export interface ModelKey {
  readonly name: string;
  readonly value: string;
}

const REF_PATTERN = /^[A-Za-z0-9._-]+$/;

export function parseKeyring(text: string, file: string): ReadonlyMap<string, string> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    // The YAML error text can quote the line, which may hold a key: do not pass it on.
    throw new AgentError('KEYRING_UNREADABLE', `${file} is not valid YAML.`, {
      hint: 'Write it as YAML: a "keys:" mapping of keyRef to key (docs/models.md §3).',
      details: { line: (err as { linePos?: { line: number }[] }).linePos?.[0]?.line },
    });
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
    throw new AgentError('KEYRING_UNREADABLE', `${file} has no "keys:" mapping.`, { hint: 'Write it as YAML: a "keys:" mapping of keyRef to key (docs/models.md §3).' });
  }
  const out = new Map<string, string>();
  // Messages name the entry by position only: a malformed line may hold a key.
  for (const [i, [name, value]] of Object.entries(keys as Record<string, unknown>).entries()) {
    if (!REF_PATTERN.test(name)) throw new AgentError('KEYRING_UNREADABLE', `${file}: entry ${i + 1} under "keys:" has a name that is not [A-Za-z0-9._-]+.`);
    if (typeof value !== 'string' && typeof value !== 'number') {
      throw new AgentError('KEYRING_UNREADABLE', `${file}: entry ${i + 1} under "keys:" has no string value.`, { hint: 'Write "<keyRef>: <key>", quoting the key.' });
    }
    out.set(name, String(value));
  }
  return out;
}

/**
 * Look up one key. Refuses a keyring that others may access, that the group may write, or
 * that a non-root owner shares with a group — the way ssh refuses an open private key. A
 * root-owned file readable by the agent's group (0640 root:jetson-agent, what the Ansible
 * role installs) is accepted: the unprivileged daemon (systemd/jetson-agent.service) must
 * read the keys it hands to the converter.
 */
export function keyringModeProblem(mode: number, uid: number): string | undefined {
  if ((mode & 0o007) !== 0) return 'others may access it';
  if ((mode & 0o020) !== 0) return 'its group may write it';
  if ((mode & 0o040) !== 0 && uid !== 0) return 'it is group-readable but not owned by root';
  return undefined;
}

export async function loadModelKey(file: string, keyRef: string): Promise<ModelKey> {
  let st;
  try {
    st = await statMaybe(file);
  } catch (err) {
    throw new AgentError('KEYRING_UNREADABLE', `Cannot stat the keyring ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}.`, { cause: err });
  }
  if (!st) {
    throw new AgentError('KEYRING_UNREADABLE', `The model keyring ${file} does not exist (needed for keyRef "${keyRef}").`, {
      hint: `Create it (mode 600, owner root) with a "keys:" mapping that has ${keyRef}: <the key given to tlt-export> (docs/models.md §3).`,
    });
  }
  const problem = keyringModeProblem(st.mode, st.uid);
  if (problem) {
    throw new AgentError('KEYRING_INSECURE', `The keyring ${file} has mode ${(st.mode & 0o777).toString(8)}; ${problem}, so it is refused.`, {
      hint: `Run: sudo chown root:jetson-agent ${file} && sudo chmod 640 ${file} (or chmod 600 when the agent runs as root).`,
    });
  }
  let text: string;
  try {
    text = await readText(file);
  } catch (err) {
    throw new AgentError('KEYRING_UNREADABLE', `Cannot read the keyring ${file} (${isNotFound(err) ? 'missing' : ((err as NodeJS.ErrnoException).code ?? 'error')}).`, {
      hint: 'Run the agent as the keyring owner (root).',
    });
  }
  const value = parseKeyring(text, file).get(keyRef);
  if (value === undefined) {
    throw new AgentError('KEY_NOT_FOUND', `keyRef "${keyRef}" is not in the keyring ${file}.`, {
      hint: `Add it under keys: as "${keyRef}: <key>".`,
      details: { keyRef },
    });
  }
  return { name: keyRef, value };
}

/** A key read from a file given on the command line (`--key-file`); same permission rule. */
export async function loadKeyFile(file: string): Promise<ModelKey> {
  const st = await statMaybe(file);
  if (!st) throw new AgentError('KEYRING_UNREADABLE', `Key file ${file} does not exist.`);
  if ((st.mode & 0o077) !== 0) {
    throw new AgentError('KEYRING_INSECURE', `The key file ${file} has mode ${(st.mode & 0o777).toString(8)}; it is refused.`, { hint: `Run: chmod 600 ${file}` });
  }
  const value = (await readText(file)).replace(/\r?\n$/, '');
  if (!value) throw new AgentError('KEYRING_UNREADABLE', `Key file ${file} is empty.`);
  return { name: `file:${file}`, value };
}

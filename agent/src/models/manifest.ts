import { Value } from '@sinclair/typebox/value';
import { AgentError } from '../core/errors.js';
import { ModelManifestSchema, NetworkType, type ModelManifest } from '../core/contracts/model.js';

/** Networks the schema accepts, for messages. */
export const NETWORKS: readonly string[] = [...NetworkType.anyOf.map((s) => String(s.const)), 'onnx'];

/**
 * Validate a parsed model.json: fills schema defaults, then reports every problem with its
 * JSON path (issue #4 §1). Pure.
 */
export function validateManifest(raw: unknown, source = 'model.json'): ModelManifest {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new AgentError('MODEL_MANIFEST_INVALID', `${source} is not a JSON object.`, { hint: 'See docs/models.md for the format.' });
  }
  const value: unknown = Value.Default(ModelManifestSchema, structuredClone(raw));
  const problems: string[] = [];
  const net = (raw as { network?: unknown }).network;
  if (typeof net === 'string' && !NETWORKS.includes(net)) problems.push(`/network: "${net}" is not a supported network (${NETWORKS.join(', ')})`);
  for (const e of Value.Errors(ModelManifestSchema, value)) {
    if (e.path === '/network' && problems.length > 0) continue;
    problems.push(`${e.path || '/'}: ${e.message}${e.value === undefined ? '' : `, got ${JSON.stringify(e.value)?.slice(0, 60)}`}`);
  }
  if (problems.length === 0) {
    const m = value as ModelManifest;
    if (m.format === 'etlt' && !m.keyRef) problems.push('/keyRef: required for an .etlt model (a name in the agent keyring)');
    if (m.input.mean.length !== m.input.channels) problems.push(`/input/mean: has ${m.input.mean.length} values for ${m.input.channels} channel(s)`);
    for (const [k, p] of [['file', m.file], ['spec', m.spec], ['calibration', m.calibration]] as const) {
      if (p !== undefined && !isInsidePath(p)) problems.push(`/${k}: "${p}" must be a relative path inside the package`);
    }
    for (const [i, c] of (m.golden?.cases ?? []).entries()) {
      if (!isInsidePath(c.image)) problems.push(`/golden/cases/${i}/image: "${c.image}" must be a relative path inside the package`);
    }
    if (m.precision === 'int8' && !m.calibration) problems.push('/calibration: int8 precision needs an INT8 calibration cache');
  }
  if (problems.length > 0) {
    const unique = [...new Set(problems)];
    throw new AgentError('MODEL_MANIFEST_INVALID', `${source} has ${unique.length} problem(s):\n  - ${unique.join('\n  - ')}`, {
      hint: 'Fix model.json (see docs/models.md) and rebuild the package.',
      details: { problems: unique },
    });
  }
  return value as ModelManifest;
}

/** A relative POSIX path with no `..`, no leading `/`, no empty or `.` segments. */
export function isInsidePath(p: string): boolean {
  if (p.length === 0 || p.length > 1024 || p.includes('\0') || p.includes('\\')) return false;
  if (p.startsWith('/')) return false;
  const segs = p.split('/');
  return segs.every((s) => s !== '' && s !== '.' && s !== '..');
}

import { Value } from '@sinclair/typebox/value';
import { list } from 'tar';
import { AgentError } from '../core/errors.js';
import { ModelManifestSchema } from '../core/contracts/model.js';
import { pluginsNeededBy } from '../core/tensorrt-plugins.js';
import { fsError, sha256File, statMaybe } from '../platform/fs.js';

export interface PackageInfo {
  readonly sha256: string;
  readonly size: number;
  readonly model: { readonly name: string; readonly version: string };
  /** TensorRT plugin creators model.json implies (a TAO .etlt ending in BatchedNMS: BatchedNMS_TRT). */
  readonly plugins: readonly string[];
}

/** sha256, size and model name/version (`model.json` at the package root) of a model package tar. */
export async function readPackageInfo(file: string): Promise<PackageInfo> {
  const st = await statMaybe(file);
  if (!st?.isFile()) throw fsError('read', file, Object.assign(new Error('not a file'), { code: 'ENOENT' }));
  let text: string | undefined;
  try {
    await list({
      file,
      filter: (p) => p.replace(/^\.\//, '') === 'model.json',
      onReadEntry: (entry) => {
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => (text = Buffer.concat(chunks).toString('utf8')));
      },
    });
  } catch (err) {
    throw new AgentError('FLEET_PACKAGE_INVALID', `${file} is not a readable tar archive (${(err as Error).message}).`, {
      hint: 'Give the model package .tar made by packaging the model directory (model.json at its root).',
      cause: err,
    });
  }
  if (text === undefined) {
    throw new AgentError('FLEET_PACKAGE_INVALID', `${file} has no model.json at its root.`, { hint: 'A model package carries model.json (name, version, network…) at the root of the tar.' });
  }
  let model: unknown;
  try {
    model = JSON.parse(text);
  } catch {
    throw new AgentError('FLEET_PACKAGE_INVALID', `${file}: model.json is not JSON.`, { hint: 'Fix model.json in the package and re-pack it.' });
  }
  const m = model as { name?: unknown; version?: unknown; format?: unknown; outputs?: unknown };
  const nameOk = Value.Check(ModelManifestSchema.properties.name, m.name);
  const versionOk = Value.Check(ModelManifestSchema.properties.version, m.version);
  if (!nameOk || !versionOk) {
    throw new AgentError('FLEET_PACKAGE_INVALID', `${file}: model.json needs a name (a-z0-9._-) and a version (A-Za-z0-9._+-).`, {
      hint: 'Fix name/version in model.json and re-pack the package.',
    });
  }
  return { sha256: await sha256File(file), size: st.size, model: { name: m.name as string, version: m.version as string }, plugins: pluginsNeededBy(m) };
}

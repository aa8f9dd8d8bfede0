import { UsageError } from '../core/errors.js';
import {
  DEPLOYMENT_MANIFEST_VERSION,
  type DeploymentManifest,
  type ManifestPolicy,
  type ManifestRequires,
  type VersionRange,
} from '../core/contracts/manifest.js';
import { parseVersion } from './versions.js';
import type { Requirements } from './types.js';

/**
 * Build the signed deployment manifest payload (contracts/manifest.ts, the schema the device
 * verifies). Pure: the caller reads the package (package-info.ts) and the clock.
 */
export interface ManifestInput {
  readonly deploymentId?: string;
  readonly now: number;
  readonly expiresInMs: number;
  /** Anti-replay sequence; default = issuedAt in ms, so manifests made later always win. */
  readonly sequence?: number;
  readonly url: string;
  readonly sha256: string;
  readonly size: number;
  readonly model: { readonly name: string; readonly version: string };
  readonly requires?: Requirements;
  readonly probationSec?: number;
}

export function buildManifest(input: ManifestInput): DeploymentManifest {
  const issuedAt = new Date(input.now).toISOString();
  const deploymentId = input.deploymentId ?? `${input.model.name}-${input.model.version}-${issuedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(deploymentId)) {
    throw new UsageError(`Bad deployment id "${deploymentId}".`, 'Use 1–128 letters, digits, ".", "_", ":" and "-".');
  }
  if (!/^(https?|file):\/\//.test(input.url)) throw new UsageError(`Bad --url "${input.url}".`, 'Use an http://, https:// or file:// URL the devices can reach.');
  const requires = input.requires ? toManifestRequires(input.requires) : undefined;
  const policy: ManifestPolicy | undefined = input.probationSec !== undefined ? { probationSec: input.probationSec } : undefined;
  return {
    v: DEPLOYMENT_MANIFEST_VERSION,
    deploymentId,
    issuedAt,
    expiresAt: new Date(input.now + input.expiresInMs).toISOString(),
    sequence: input.sequence ?? input.now,
    package: { url: input.url, sha256: input.sha256, size: input.size },
    model: { name: input.model.name, version: input.model.version },
    ...(requires && Object.keys(requires).length ? { requires } : {}),
    ...(policy ? { policy } : {}),
  };
}

/** The controller's `--requires` (shared with `rollout plan`) in the manifest's form. */
export function toManifestRequires(r: Requirements): ManifestRequires {
  const out: { -readonly [K in keyof ManifestRequires]: ManifestRequires[K] } = {};
  if (r.soc?.length) out.socs = [...r.soc];
  if (r.cudaArch?.length) out.cudaArchs = [...r.cudaArch];
  if (r.tensorrt) out.tensorrt = toVersionRange(r.tensorrt, 'tensorrt');
  if (r.jetpack) out.jetpack = toVersionRange(r.jetpack, 'jetpack');
  if (r.minFreeDiskBytes !== undefined) out.minFreeDiskBytes = r.minFreeDiskBytes;
  if (r.plugins?.length) out.plugins = [...r.plugins];
  return out;
}

/**
 * The manifest carries ranges as inclusive min / exclusive max (what the device checks), so
 * only `>=X`, `<Y` and a bare prefix `X` (= `>=X <X+1 in its last part`) translate exactly.
 */
export function toVersionRange(text: string, what: string): VersionRange {
  const out: { min?: string; max?: string } = {};
  for (const item of text.trim().split(/\s+/).filter(Boolean)) {
    const m = /^(>=|<)?(.+)$/.exec(item);
    const v = m?.[2] !== undefined ? parseVersion(m[2]) : undefined;
    if (!m || !v) {
      throw new UsageError(`--requires ${what}="${text}": "${item}" cannot go into a manifest.`, 'Manifests carry ">=MIN", "<MAX" or a bare version prefix such as "8.5".');
    }
    if (m[1] === '>=') out.min = v.join('.');
    else if (m[1] === '<') out.max = v.join('.');
    else {
      out.min = v.join('.');
      const next = [...v];
      next[next.length - 1] = (next[next.length - 1] ?? 0) + 1;
      out.max = next.join('.');
    }
  }
  return out;
}

/** A manifest's `requires` as the controller's target filter (so skipped devices are named before anything is published). */
export function fromManifestRequires(r: ManifestRequires | undefined): Requirements {
  if (!r) return {};
  const range = (v: VersionRange | undefined): string | undefined =>
    v && (v.min || v.max) ? [v.min ? `>=${v.min}` : '', v.max ? `<${v.max}` : ''].filter(Boolean).join(' ') : undefined;
  const tensorrt = range(r.tensorrt);
  const jetpack = range(r.jetpack);
  return {
    ...(r.socs ? { soc: r.socs } : {}),
    ...(r.cudaArchs ? { cudaArch: r.cudaArchs } : {}),
    ...(tensorrt ? { tensorrt } : {}),
    ...(jetpack ? { jetpack } : {}),
    ...(r.minFreeDiskBytes !== undefined ? { minFreeDiskBytes: r.minFreeDiskBytes } : {}),
    ...(r.plugins?.length ? { plugins: r.plugins } : {}),
  };
}

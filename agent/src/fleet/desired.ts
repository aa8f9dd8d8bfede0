import { Value } from '@sinclair/typebox/value';
import { DeploymentManifestSchema } from '../core/contracts/manifest.js';
import type { ModelRef } from '../core/contracts/deployment.js';

/** What a retained desired asks a device for, read for display (`devices`, `rollout rollback`). */
export interface DesiredSummary {
  readonly deploymentId: string;
  readonly model: ModelRef;
  readonly sequence: number;
}

/**
 * The manifest inside a desired envelope, WITHOUT verifying its signature: the controller
 * shows the operator what the broker holds; devices verify before they read anything (DESIGN
 * §8), so nothing here decides what runs. null for an empty, malformed or foreign payload.
 */
export function readDesired(envelopeText: string | undefined): DesiredSummary | null {
  if (!envelopeText) return null;
  try {
    const env = JSON.parse(envelopeText) as { payload?: unknown };
    if (typeof env.payload !== 'string') return null;
    const m: unknown = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    if (!Value.Check(DeploymentManifestSchema, m)) return null;
    return { deploymentId: m.deploymentId, model: { name: m.model.name, version: m.model.version }, sequence: m.sequence };
  } catch {
    return null;
  }
}

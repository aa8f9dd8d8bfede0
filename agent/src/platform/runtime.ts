/**
 * Which JavaScript runtime runs the agent: Node.js (>= 20, glibc >= 2.28) or Bun (JetPack 4,
 * glibc 2.27, where no Node >= 20 binary runs; docs/provisioning.md "JetPack 4"). This is the
 * one place that knows the difference: every workaround for a Bun behaviour lives in
 * platform/ and is listed in docs/architecture.md ("Runtimes").
 *
 * Bun answers `process.version` with the Node.js version whose APIs it implements (v26.3.0
 * for Bun 1.4.5), so that string cannot tell the runtimes apart; `process.versions.bun` can
 * (https://bun.sh/docs/runtime/nodejs-apis, process).
 */
export type RuntimeName = 'node' | 'bun';

export interface RuntimeInfo {
  readonly name: RuntimeName;
  /** The runtime's own version without a leading "v" (Bun "1.4.5", Node "20.20.2"). */
  readonly version: string;
  /** The Node.js API level it offers (process.version without the "v"). */
  readonly nodeCompat: string;
}

export function runtimeInfo(versions: NodeJS.ProcessVersions = process.versions): RuntimeInfo {
  const bun = (versions as NodeJS.ProcessVersions & { bun?: string }).bun;
  return bun ? { name: 'bun', version: bun, nodeCompat: versions.node } : { name: 'node', version: versions.node, nodeCompat: versions.node };
}

/** "node 20.20.2" / "bun 1.4.5 (Node.js 26.3.0 APIs)": for logs and `jetson-agent version`. */
export function describeRuntime(info: RuntimeInfo = runtimeInfo()): string {
  return info.name === 'bun' ? `bun ${info.version} (Node.js ${info.nodeCompat} APIs)` : `node ${info.version}`;
}

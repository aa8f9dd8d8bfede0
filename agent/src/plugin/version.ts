import { compareVersions } from '../core/versions.js';
export { compareVersions };
/**
 * Version helpers for TensorRT OSS planning: the one parser of each format lives in
 * core/tool-versions.ts (board detection reads the same files).
 */
export { parseCmakeVersion, parseNvccVersion, parseNvInferVersionHeader, type TrtHeaderVersion } from '../core/tool-versions.js';

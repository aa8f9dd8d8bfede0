import { compareVersions } from './versions.js';

/**
 * TensorRT plugin creators whose sources NVIDIA removed in TensorRT OSS 11.0, so that a
 * TensorRT ≥ 11 board has no library that registers them (docs/reference/tensorrt-oss-trees.md:
 * release/11.0 CHANGELOG "Removed deprecated plugins: batchTile, clip, coordConvAC, …, nms,
 * and proposal"; its plugin/ also has no batchedNMSPlugin). Shared by the controller (target
 * filter, manifest create), the device's rollout admission and conversion, so it lives in
 * core/ and every feature reads the same table.
 */
export const REMOVED_IN_TENSORRT_11: Readonly<Record<string, string>> = {
  BatchTilePlugin_TRT: 'batchTilePlugin',
  BatchedNMS_TRT: 'batchedNMSPlugin',
  BatchedNMSDynamic_TRT: 'batchedNMSPlugin',
  NMS_TRT: 'nmsPlugin',
  NMSDynamic_TRT: 'nmsPlugin',
  Clip_TRT: 'clipPlugin',
  CoordConvAC: 'coordConvACPlugin',
  CustomGeluPluginDynamic: 'geluPlugin',
  LReLU_TRT: 'leakyReluPlugin',
  Normalize_TRT: 'normalizePlugin',
  Proposal: 'proposalPlugin',
  ProposalDynamic: 'proposalPlugin',
  SpecialSlice_TRT: 'specialSlicePlugin',
  Split: 'splitPlugin',
};

/** A plugin creator name as TensorRT spells them (`BatchedNMS_TRT`, `CoordConvAC`). */
export const PLUGIN_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,99}$';

/** Of `needed`, the creators a board with this TensorRT cannot have (none when the version is unknown or < 11). */
export function removedPlugins(tensorrt: string | null | undefined, needed: readonly string[]): string[] {
  if (!tensorrt || compareVersions(tensorrt, '11') < 0) return [];
  return needed.filter((n) => n in REMOVED_IN_TENSORRT_11);
}

/** What to do about a model that needs removed creators (the same text wherever it is refused). */
export function removedPluginsFix(removed: readonly string[]): string {
  const nms = removed.some((n) => /NMS/.test(n));
  return (
    `${nms ? 'Re-export the model with EfficientNMS (EfficientNMS_TRT, still in TensorRT 11) instead of BatchedNMS, ' : 'Re-export the model without these plugins, '}` +
    'or keep this model on boards with TensorRT 10 (JetPack 6) or older.'
  );
}

/**
 * The creators a model package needs, from what its model.json says: a TAO .etlt whose
 * converter outputs include the `BatchedNMS` node ends in the BatchedNMS plugin (TAO's
 * YOLOv3/YOLOv4 exporters, docs/models.md). Other needs come from `--requires plugins=…`.
 */
export function pluginsNeededBy(model: { readonly format?: unknown; readonly outputs?: unknown }): string[] {
  const outputs = Array.isArray(model.outputs) ? model.outputs : [];
  return model.format === 'etlt' && outputs.some((o) => o === 'BatchedNMS') ? ['BatchedNMS_TRT'] : [];
}

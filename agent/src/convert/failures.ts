import type { ErrorCode } from '../core/error-codes.js';

/**
 * Known converter/TensorRT failure texts → coded errors with the fix (docs/reference/tensorrt-conversion.md "Error texts").
 * Pure; the first matching rule wins, so the most specific come first.
 */
export interface Diagnosis {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string;
}

interface Rule {
  readonly re: RegExp;
  readonly diagnose: (m: RegExpExecArray) => Diagnosis;
}

const RULES: readonly Rule[] = [
  {
    // "tlt-converter: error while loading shared libraries: libnvinfer.so.5: cannot open shared object file"
    re: /error while loading shared libraries: (lib[\w+-]+\.so(?:\.\d+)*): cannot open shared object file/,
    diagnose: (m) => ({
      code: 'CONVERTER_LIB_MISMATCH',
      message: `The converter needs ${m[1] ?? 'a library'}, which this board does not have: it was built for another TensorRT/CUDA.`,
      hint: 'Install the converter build for the installed JetPack (docs/models.md, "Converter per JetPack").',
    }),
  },
  {
    // "./tlt-converter: symbol lookup error: ./tlt-converter: undefined symbol: initLibNvInferPlugins"
    re: /symbol lookup error: .*undefined symbol: (\S+)/,
    diagnose: (m) => ({
      code: 'CONVERTER_LIB_MISMATCH',
      message: `The converter and the installed TensorRT libraries do not match (undefined symbol ${m[1] ?? ''}).`,
      hint: 'Install the converter build for the installed JetPack, and check that libnvinfer_plugin matches libnvinfer (`jetson-agent plugin status`).',
    }),
  },
  {
    // "getPluginCreator could not find plugin BatchTilePlugin_TRT version 1"
    re: /getPluginCreator could not find plugin (\S+) version (\S+)/,
    diagnose: (m) => ({
      code: 'PLUGIN_MISSING',
      message: `TensorRT has no plugin ${m[1] ?? ''} version ${m[2] ?? ''}; the stock libnvinfer_plugin lacks the plugins TLT models need.`,
      hint: 'Build and install TensorRT OSS libnvinfer_plugin for this board (`jetson-agent plugin build`, then `jetson-agent plugin install`), then convert again.',
    }),
  },
  {
    re: /Cannot deserialize plugin since corresponding IPluginCreator not found in Plugin Registry/,
    diagnose: () => ({
      code: 'PLUGIN_MISSING',
      message: 'A plugin used by the model is not registered with TensorRT.',
      hint: 'Build and install TensorRT OSS libnvinfer_plugin for this board (`jetson-agent plugin build`, then `jetson-agent plugin install`).',
    }),
  },
  {
    // YOLOv3 on TRT 7.1 with the stock plugin library (docs/reference/tensorrt-conversion.md "Error texts").
    re: /IPluginV2DynamicExt requires network without implicit batch dimension/,
    diagnose: () => ({
      code: 'PLUGIN_MISSING',
      message: 'The installed libnvinfer_plugin cannot build this YOLOv3 model (IPluginV2DynamicExt with implicit batch).',
      hint: 'Install the TensorRT OSS libnvinfer_plugin built for this TensorRT (`jetson-agent plugin build`, then `jetson-agent plugin install`).',
    }),
  },
  {
    // "The engine plan file is not compatible with this version of TensorRT, expecting library version 8.2.3 got 8.2.1, please rebuild."
    re: /The engine plan file is not compatible with this version of TensorRT, expecting library version (\S+) got ([^\s,]+)/,
    diagnose: (m) => ({
      code: 'ENGINE_VERSION_MISMATCH',
      message: `The engine was built by TensorRT ${m[2] ?? '?'}, this board runs ${m[1] ?? '?'}.`,
      hint: 'Rebuild the engine on this board (jetson-agent convert); engines never move between TensorRT versions.',
    }),
  },
  {
    re: /Serialization Error in verifyHeader/,
    diagnose: () => ({
      code: 'ENGINE_VERSION_MISMATCH',
      message: 'The engine was serialised by another TensorRT version (verifyHeader failed).',
      hint: 'Rebuild the engine on this board (jetson-agent convert).',
    }),
  },
  {
    // Typical CUDA/TensorRT OOM texts; exact converter wording UNCONFIRMED (docs/reference/tensorrt-conversion.md "Open questions").
    re: /out of memory|cudaErrorMemoryAllocation|CUDA_ERROR_OUT_OF_MEMORY|std::bad_alloc|Requested amount of GPU memory \(\d+ bytes\) could not be allocated/i,
    diagnose: () => ({
      code: 'OUT_OF_MEMORY',
      message: 'The converter ran out of memory.',
      hint: 'Lower --max-batch or convert.workspaceBytes, stop other GPU work (e.g. the inference service), or add swap, then retry.',
    }),
  },
];

export function diagnoseConverterOutput(output: string): Diagnosis | undefined {
  for (const rule of RULES) {
    const m = rule.re.exec(output);
    if (m) return rule.diagnose(m);
  }
  return undefined;
}

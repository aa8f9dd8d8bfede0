import t from 'tap';
import { diagnoseConverterOutput } from '../../../agent/src/convert/failures.js';
import { converterDownloadHint } from '../../../agent/src/convert/converters.js';

// Texts verbatim from docs/reference/tensorrt-conversion.md "Error texts".
t.test('documented failure texts map to coded errors with the fix', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['tlt-converter: error while loading shared libraries: libnvinfer.so.5: cannot open shared object file: No such file or directory', 'CONVERTER_LIB_MISMATCH', /libnvinfer\.so\.5/],
    ['./tlt-converter: symbol lookup error: ./tlt-converter: undefined symbol: initLibNvInferPlugins', 'CONVERTER_LIB_MISMATCH', /initLibNvInferPlugins/],
    ['getPluginCreator could not find plugin BatchTilePlugin_TRT version 1', 'PLUGIN_MISSING', /BatchTilePlugin_TRT version 1/],
    ['getPluginCreator could not find plugin BatchedNMS_TRT version 1', 'PLUGIN_MISSING', /BatchedNMS_TRT/],
    ['Cannot deserialize plugin since corresponding IPluginCreator not found in Plugin Registry', 'PLUGIN_MISSING', /not registered/],
    ['[ERROR] IPluginV2DynamicExt requires network without implicit batch dimension', 'PLUGIN_MISSING', /YOLOv3/],
    ['The engine plan file is not compatible with this version of TensorRT, expecting library version 8.2.3 got 8.2.1, please rebuild.', 'ENGINE_VERSION_MISMATCH', /built by TensorRT 8\.2\.1, this board runs 8\.2\.3/],
    ['Serialization Error in verifyHeader', 'ENGINE_VERSION_MISMATCH', /verifyHeader/],
    ['Cuda Runtime (out of memory)', 'OUT_OF_MEMORY', /out of memory/],
  ];
  for (const [text, code, re] of cases) {
    const d = diagnoseConverterOutput(`[INFO] some noise\n${text}\n[INFO] more`);
    t.equal(d?.code, code, text);
    t.match(d?.message ?? '', re, text);
    t.ok((d?.hint.length ?? 0) > 20, `${code} has an actionable hint`);
  }
  t.match(diagnoseConverterOutput('getPluginCreator could not find plugin BatchTilePlugin_TRT version 1')?.hint ?? '', /jetson-agent plugin build.*jetson-agent plugin install/);
  t.equal(diagnoseConverterOutput('[ERROR] something else entirely'), undefined);
});

t.test('CONVERTER_NOT_FOUND hints name the build for the installed TensorRT (docs/reference/tensorrt-conversion.md "Converter downloads")', async (t) => {
  t.match(converterDownloadHint('tlt-converter', { tensorrt: '7.1.3', jetpack: '4.4' }), /v3\.21\.11_trt7\.1_aarch64.*JetPack 4\.4/);
  t.match(converterDownloadHint('tlt-converter', { tensorrt: '8.0.1', jetpack: '4.6' }), /v3\.21\.11_trt8\.0_aarch64|tao-converter-jp4\.6/);
  t.match(converterDownloadHint('tlt-converter', { tensorrt: '8.5.2', jetpack: '5.1.2' }), /v3\.22\.05_trt8\.4_aarch64/);
  t.match(converterDownloadHint('tlt-converter', { tensorrt: '10.3.0', jetpack: '6.1' }), /No tao-converter exists for TensorRT 10\.3\.0.*\.onnx/);
  t.match(converterDownloadHint('trtexec', { tensorrt: '10.3.0', jetpack: null }), /\/usr\/src\/tensorrt\/bin\/trtexec/);
});

import t from 'tap';
import { pluginsNeededBy, removedPlugins, removedPluginsFix, REMOVED_IN_TENSORRT_11 } from '../../../agent/src/core/tensorrt-plugins.js';

t.test('removedPlugins: only on TensorRT ≥ 11, only the creators whose sources 11.0 dropped', async (t) => {
  const tao = ['BatchTilePlugin_TRT', 'ResizeNearest_TRT', 'BatchedNMS_TRT', 'BatchedNMSDynamic_TRT'];
  t.same(removedPlugins('10.16.1', tao), []);
  t.same(removedPlugins('11.0.0', tao), ['BatchTilePlugin_TRT', 'BatchedNMS_TRT', 'BatchedNMSDynamic_TRT']);
  t.same(removedPlugins('11.1', ['NMS_TRT', 'EfficientNMS_TRT', 'CropAndResizeDynamic']), ['NMS_TRT'], 'cropAndResizePlugin is still in release/11.0');
  t.same(removedPlugins(null, tao), [], 'unknown TensorRT: nothing can be concluded');
  // Every entry names a plugin directory that release/10.16 has and release/11.0 lacks
  // (docs/reference/tensorrt-oss-trees.md); the directory names are the table's values.
  t.same([...new Set(Object.values(REMOVED_IN_TENSORRT_11))].sort(), [
    'batchTilePlugin', 'batchedNMSPlugin', 'clipPlugin', 'coordConvACPlugin', 'geluPlugin', 'leakyReluPlugin', 'nmsPlugin', 'normalizePlugin', 'proposalPlugin', 'specialSlicePlugin', 'splitPlugin',
  ]);
});

t.test('pluginsNeededBy: a TAO .etlt ending in BatchedNMS needs BatchedNMS_TRT; an ONNX model is judged by its graph, not here', async (t) => {
  t.same(pluginsNeededBy({ format: 'etlt', outputs: ['BatchedNMS'] }), ['BatchedNMS_TRT']);
  t.same(pluginsNeededBy({ format: 'etlt', outputs: ['num_detections', 'detection_boxes'] }), []);
  t.same(pluginsNeededBy({ format: 'onnx', outputs: ['BatchedNMS'] }), []);
  t.same(pluginsNeededBy({}), []);
  t.match(removedPluginsFix(['BatchTilePlugin_TRT']), /^Re-export the model without these plugins, or keep this model on boards with TensorRT 10/);
});

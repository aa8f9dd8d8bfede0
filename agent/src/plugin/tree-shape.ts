import { evaluateCmake, type EvalResult } from './cmake-eval.js';
import { CmakeSyntaxError } from './cmake-script.js';

/**
 * What a TensorRT OSS source tree's own CMake files say about building libnvinfer_plugin
 * (docs/reference/tensorrt-oss-trees.md): the make target, which plugin source directories
 * the configure compiles, the cmake minimum, and which -D variables it reads. Read from the
 * tree, never from its branch name: release/11.0 still builds `nvinfer_plugin` by default
 * while release/11.1 and main build `tensorrt_plugins`, and release/11.0 already dropped
 * batchedNMSPlugin and batchTilePlugin. Pure: source.ts reads the files.
 */

/** The files of a tree this reads (tree-relative paths) and its directories. */
export interface TreeFiles {
  readonly files: ReadonlyMap<string, string>;
  readonly dirs: ReadonlySet<string>;
}

/** The plugin source directories TAO models need (DeepStream TRT-OSS README: YOLOv3, SSD, RetinaNet …). */
export const TAO_PLUGIN_DIRS = {
  batchTilePlugin: ['BatchTilePlugin_TRT'],
  batchedNMSPlugin: ['BatchedNMS_TRT', 'BatchedNMSDynamic_TRT'],
  resizeNearestPlugin: ['ResizeNearest_TRT'],
} as const satisfies Record<string, readonly string[]>;
export type TaoPluginDir = keyof typeof TAO_PLUGIN_DIRS;

export interface TreeShape {
  readonly minimumCmake: string;
  /** GPU_ARCHS (release/5.1 … 10.x, space-separated) or CMAKE_CUDA_ARCHITECTURES (release/11.0+, ;-list). */
  readonly archVariable: 'GPU_ARCHS' | 'CMAKE_CUDA_ARCHITECTURES';
  /** TRT_OUT_DIR (7.1+), TRT_BIN_DIR (≤ 7.0), or null when the tree reads neither (output stays in build/). */
  readonly outputVariable: 'TRT_OUT_DIR' | 'TRT_BIN_DIR' | null;
  /** The make target that links libnvinfer_plugin.so: `nvinfer_plugin` or `tensorrt_plugins`. */
  readonly pluginTarget: string;
  /** plugin/<dir> subdirectories the configure adds (and that exist), sorted. */
  readonly pluginDirs: readonly string[];
  /** TAO plugin directories the configure does NOT compile (absent from the tree or its list). */
  readonly missingTaoPlugins: readonly TaoPluginDir[];
  readonly languages: readonly string[];
}

export type ShapeProblem = { readonly kind: 'tree-unreadable'; readonly message: string };

/** Defines the plan always passes that decide what the configure descends into. */
export const BASE_DEFINES: ReadonlyMap<string, string> = new Map([
  ['BUILD_PARSERS', 'OFF'],
  ['BUILD_SAMPLES', 'OFF'],
]);

/** Runs the tree's configure (partially, see cmake-eval.ts) with these -D values. */
export function configureTree(tree: TreeFiles, defines: ReadonlyMap<string, string>): EvalResult {
  return evaluateCmake({ files: tree.files, dirs: tree.dirs, defines, follow: (dir) => dir === 'plugin' });
}

/** The shared-library target whose output is libnvinfer_plugin (its name or OUTPUT_NAME). */
function pluginTargetOf(r: EvalResult): string | undefined {
  const outputName = (t: string): string => r.properties.get(t)?.get('OUTPUT_NAME') ?? t;
  const candidates = r.targets.filter((t) => t.type === 'SHARED' && t.dir === 'plugin' && outputName(t.name) === 'nvinfer_plugin');
  return (candidates.find((t) => t.certain) ?? candidates[0])?.name;
}

export function readTreeShape(tree: TreeFiles): TreeShape | ShapeProblem {
  if (!tree.files.has('CMakeLists.txt')) return { kind: 'tree-unreadable', message: 'the tree has no top-level CMakeLists.txt' };
  if (!tree.files.has('plugin/CMakeLists.txt')) return { kind: 'tree-unreadable', message: 'the tree has no plugin/CMakeLists.txt' };
  let r: EvalResult;
  try {
    r = configureTree(tree, BASE_DEFINES);
  } catch (err) {
    if (err instanceof CmakeSyntaxError) return { kind: 'tree-unreadable', message: `a CMakeLists.txt does not parse (${err.message})` };
    throw err;
  }
  const pluginTarget = pluginTargetOf(r);
  if (!pluginTarget) {
    const shared = r.targets.filter((t) => t.dir === 'plugin' && t.type === 'SHARED').map((t) => t.name);
    return {
      kind: 'tree-unreadable',
      message: `plugin/CMakeLists.txt defines no shared library that produces libnvinfer_plugin (shared targets found: ${shared.join(', ') || 'none'})`,
    };
  }
  const pluginDirs = [...new Set(r.subdirs.filter((s) => /^plugin\/[^/]+$/.test(s.dir) && tree.dirs.has(s.dir)).map((s) => s.dir.slice('plugin/'.length)))].sort();
  const missingTaoPlugins = (Object.keys(TAO_PLUGIN_DIRS) as TaoPluginDir[]).filter((d) => !pluginDirs.includes(d));
  return {
    minimumCmake: r.minimumCmake ?? '3.13',
    archVariable: r.mentioned.has('GPU_ARCHS') ? 'GPU_ARCHS' : 'CMAKE_CUDA_ARCHITECTURES',
    outputVariable: r.mentioned.has('TRT_OUT_DIR') ? 'TRT_OUT_DIR' : r.mentioned.has('TRT_BIN_DIR') ? 'TRT_BIN_DIR' : null,
    pluginTarget,
    pluginDirs,
    missingTaoPlugins,
    languages: r.languages,
  };
}

import t from 'tap';
import path from 'node:path';
import { evaluateCmake } from '../../../agent/src/plugin/cmake-eval.js';
import { CmakeSyntaxError, parseCmake, tokenizeCmake } from '../../../agent/src/plugin/cmake-script.js';
import { readTreeShape, type TreeShape } from '../../../agent/src/plugin/tree-shape.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { treeFromDir, treeFromGit } from '../../helpers/trt-oss-tree.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'trt-oss');

/** What each fixture shape must read as; the same as the real branches it stands for (below). */
export const EXPECTED: Record<string, Omit<TreeShape, 'pluginDirs' | 'languages'> & { readonly branches: readonly string[] }> = {
  'release-7.1': { branches: ['release/7.1', 'release/7.2', 'release/8.0', 'release/8.2'], minimumCmake: '3.13', archVariable: 'GPU_ARCHS', outputVariable: 'TRT_OUT_DIR', pluginTarget: 'nvinfer_plugin', missingTaoPlugins: [] },
  'release-8.6': { branches: ['release/8.4', 'release/8.5', 'release/8.6'], minimumCmake: '3.13', archVariable: 'GPU_ARCHS', outputVariable: 'TRT_OUT_DIR', pluginTarget: 'nvinfer_plugin', missingTaoPlugins: [] },
  'release-10.3': { branches: ['release/10.0', 'release/10.3', 'release/10.8', 'release/10.12'], minimumCmake: '3.13', archVariable: 'GPU_ARCHS', outputVariable: 'TRT_OUT_DIR', pluginTarget: 'nvinfer_plugin', missingTaoPlugins: [] },
  'release-10.16': { branches: ['release/10.13', 'release/10.14', 'release/10.15', 'release/10.16'], minimumCmake: '3.13', archVariable: 'GPU_ARCHS', outputVariable: 'TRT_OUT_DIR', pluginTarget: 'nvinfer_plugin', missingTaoPlugins: [] },
  'release-11.0': { branches: ['release/11.0'], minimumCmake: '3.31', archVariable: 'CMAKE_CUDA_ARCHITECTURES', outputVariable: 'TRT_OUT_DIR', pluginTarget: 'nvinfer_plugin', missingTaoPlugins: ['batchTilePlugin', 'batchedNMSPlugin'] },
  main: { branches: ['release/11.1', 'main'], minimumCmake: '3.31', archVariable: 'CMAKE_CUDA_ARCHITECTURES', outputVariable: 'TRT_OUT_DIR', pluginTarget: 'tensorrt_plugins', missingTaoPlugins: ['batchTilePlugin', 'batchedNMSPlugin'] },
};

const core = (s: TreeShape): Omit<TreeShape, 'pluginDirs' | 'languages'> => ({
  minimumCmake: s.minimumCmake,
  archVariable: s.archVariable,
  outputVariable: s.outputVariable,
  pluginTarget: s.pluginTarget,
  missingTaoPlugins: s.missingTaoPlugins,
});

t.test('each fixture tree reads as the shape of the real branches it stands for', async (t) => {
  for (const [shape, want] of Object.entries(EXPECTED)) {
    const s = readTreeShape(treeFromDir(path.join(FIXTURES, shape)));
    if ('kind' in s) {
      t.fail(`${shape}: ${s.message}`);
      continue;
    }
    const { branches, ...expected } = want;
    t.same(core(s), expected, `${shape} (${branches.join(', ')})`);
    t.ok(s.pluginDirs.includes('resizeNearestPlugin') && s.pluginDirs.includes('common'), `${shape}: plugin sources under plugin/<dir>`);
    t.equal(s.pluginDirs.includes('batchedNMSPlugin'), expected.missingTaoPlugins.length === 0, `${shape}: batchedNMSPlugin compiled iff present`);
  }
});

// Against NVIDIA's real trees: a git repository of NVIDIA/TensorRT (e.g. a bare clone) named
// by TRT_OSS_GIT_DIR. Not in CI (the repository is not vendored); docs/hardware-validation.md.
const gitDir = process.env.TRT_OSS_GIT_DIR;
t.test('the real NVIDIA/TensorRT branches read as their fixture shapes', { skip: gitDir ? false : 'set TRT_OSS_GIT_DIR to a git repository of NVIDIA/TensorRT to run this' }, async (t) => {
  for (const [shape, want] of Object.entries(EXPECTED)) {
    const { branches, ...expected } = want;
    for (const b of branches) {
      const s = readTreeShape(treeFromGit(gitDir ?? '', b));
      if ('kind' in s) t.fail(`${b}: ${s.message}`);
      else t.same(core(s), expected, `${b} reads like fixture ${shape}`);
    }
  }
});

t.test('unreadable trees are problems with the reason, not guesses', async (t) => {
  const shape = (files: Record<string, string>): unknown => {
    const s = readTreeShape({ files: new Map(Object.entries(files)), dirs: new Set(['plugin']) });
    return 'kind' in s ? s.message : s;
  };
  t.equal(shape({ 'plugin/CMakeLists.txt': '' }), 'the tree has no top-level CMakeLists.txt');
  t.equal(shape({ 'CMakeLists.txt': 'project(x)\nadd_subdirectory(plugin)\n', 'plugin/CMakeLists.txt': 'add_library(other SHARED a.c)\n' }), 'plugin/CMakeLists.txt defines no shared library that produces libnvinfer_plugin (shared targets found: other)');
  t.match(shape({ 'CMakeLists.txt': 'if(A)\n', 'plugin/CMakeLists.txt': '' }), /does not parse \(line 1: if\(\) without endif\(\)\)/);
});

t.test('CMake tokenizer: quoted, bracket and unquoted arguments, comments, nested parentheses', async (t) => {
  const c = tokenizeCmake('# comment\nSET(A "x y" [[raw ${B}]] c;d) #[[ block\ncomment ]] if((A) AND NOT "B")\nmessage("a\\"b")\n');
  t.same(
    c.map((x) => [x.name, x.args.map((a) => (a.quoted ? `"${a.text}"` : a.text)), x.line]),
    [
      ['set', ['A', '"x y"', '"raw ${B}"', 'c;d'], 2],
      ['if', ['(', 'A', ')', 'AND', 'NOT', '"B"'], 3],
      ['message', ['"a"b"'], 4],
    ],
  );
  t.throws(() => parseCmake('foreach(x a)\nendif()\n'), /line 2: endif\(\) without its opening command/);
  t.ok(new CmakeSyntaxError('x', 3) instanceof Error);
  t.throws(() => tokenizeCmake('set(A "open\n'), /unterminated quoted argument/);
});

const evalTop = (text: string, defines: Record<string, string> = {}): ReturnType<typeof evaluateCmake> =>
  evaluateCmake({ files: new Map([['CMakeLists.txt', text]]), dirs: new Set(), defines: new Map(Object.entries(defines)), follow: () => false });

t.test('CMake evaluation: if() semantics, unknown values and what counts as used', async (t) => {
  const r = evalTop(
    [
      'if(DEFINED ONLY_DEFINED)',
      'endif()',
      'if(BARE)',
      '  add_library(bare SHARED x.c)',
      'endif()',
      'if (${NEVER_SET})',
      '  add_library(never SHARED x.c)',
      'else()',
      '  add_library(otherwise SHARED x.c)',
      'endif()',
      'file(STRINGS h.h LINES)',
      'if(LINES MATCHES "x")',
      '  add_library(maybe SHARED x.c)',
      'endif()',
      'if(V VERSION_GREATER_EQUAL 11.0 AND NOT MSVC)',
      '  add_library(v11 SHARED x.c)',
      'endif()',
      'if(FALSE)',
      '  message("${IN_DEAD_CODE}")',
      'endif()',
      'set(LIST a b)',
      'list(APPEND LIST c)',
      'foreach(X IN LISTS LIST)',
      '  add_library(t_${X} STATIC x.c)',
      'endforeach()',
    ].join('\n'),
    { ONLY_DEFINED: '1', BARE: 'ON', V: '11.1', IN_DEAD_CODE: 'x' },
  );
  t.same(
    r.targets.map((x) => [x.name, x.certain]),
    [['bare', true], ['otherwise', true], ['maybe', false], ['v11', true], ['t_a', true], ['t_b', true], ['t_c', true]],
    'an empty ${X} makes if() false; a value from an unmodelled command makes the branch uncertain',
  );
  t.notOk(r.used.has('ONLY_DEFINED'), 'if(DEFINED X) alone is not a use (cmake 3.25 warns such a -D is unused)');
  t.ok(r.mentioned.has('ONLY_DEFINED'));
  t.ok(r.used.has('BARE') && r.used.has('V'));
  t.notOk(r.used.has('IN_DEAD_CODE'), 'code that does not run uses nothing');
  t.same(evalTop('project(p LANGUAGES C CUDA VERSION 1.2)\ncmake_minimum_required(VERSION 3.31...3.40)\n').languages, ['C', 'CUDA']);
  t.equal(evalTop('cmake_minimum_required(VERSION 3.31...3.40)\n').minimumCmake, '3.31');
  const cache = evalTop('set(A "default" CACHE STRING "doc")\nadd_library(${A} SHARED x.c)\n', { A: 'fromD' });
  t.equal(cache.targets[0]?.name, 'fromD', 'set(… CACHE …) keeps a -D value');
});

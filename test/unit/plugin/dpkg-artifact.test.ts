import t from 'tap';
import { cacheKey, type CacheInputs } from '../../../agent/src/plugin/artifact.js';
import { divertPathFor, parseDiversions } from '../../../agent/src/plugin/dpkg.js';

t.test('diversions database: triples, local holder ":" (docs/reference/library-swap.md "dpkg-divert")', async (t) => {
  const db = '/usr/lib/x/libfoo.so.1\n/usr/lib/x/libfoo.so.1.distrib\nfoo-custom\n/usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so.7.1.3\n/usr/lib/aarch64-linux-gnu/jetson-agent-diverted/libnvinfer_plugin.so.7.1.3\n:\n';
  t.same(parseDiversions(db), [
    { file: '/usr/lib/x/libfoo.so.1', divertTo: '/usr/lib/x/libfoo.so.1.distrib', holder: 'foo-custom' },
    {
      file: '/usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so.7.1.3',
      divertTo: '/usr/lib/aarch64-linux-gnu/jetson-agent-diverted/libnvinfer_plugin.so.7.1.3',
      holder: ':',
    },
  ]);
  t.same(parseDiversions(''), []);
  const to = divertPathFor('/usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so.8.5.2');
  t.equal(to, '/usr/lib/aarch64-linux-gnu/jetson-agent-diverted/libnvinfer_plugin.so.8.5.2', 'a subdirectory, never <file>.distrib');
});

t.test('cache key: identical inputs match regardless of key order; any input change misses', async (t) => {
  const base: CacheInputs = {
    sourceIdentity: 'git:abc',
    branch: 'release/7.1',
    gpuArchs: [53],
    tensorrt: '7.1.3',
    cudaVersion: '10.2',
    trtLibDir: '/usr/lib/aarch64-linux-gnu',
    platformAarch64: true,
    cCompiler: '/usr/bin/gcc',
    cudaCompiler: { path: '/usr/local/cuda/bin/nvcc', version: '10.2.89' },
    cmakeVersion: '3.25.1',
  };
  const reordered = Object.fromEntries(Object.entries(base).reverse()) as unknown as CacheInputs;
  t.equal(cacheKey(reordered), cacheKey(base));
  t.not(cacheKey({ ...base, gpuArchs: [53, 62] }), cacheKey(base), 'archs');
  t.not(cacheKey({ ...base, sourceIdentity: 'git:def' }), cacheKey(base), 'commit');
  t.not(cacheKey({ ...base, tensorrt: '7.1.4' }), cacheKey(base), 'TensorRT');
  t.match(cacheKey(base), /^[0-9a-f]{64}$/);
});

import t from 'tap';
import {
  compareVersions,
  cudaArchFor,
  jetpackForL4t,
  knownSoc,
  ossBranchFor,
  socForChipId,
  socForModule,
} from '../../../agent/src/board/catalog.js';

// Expected values: docs/reference/jetson-boards.md "SoCs and compute capability" and "L4T to JetPack", docs/reference/tensorrt-oss-plugin.md "Branch per TensorRT version" and "cmake minimum".

t.test('SoC → GPU_ARCHS for every supported Jetson SoC', async (t) => {
  t.same(
    ['tegra210', 'tegra186', 'tegra194', 'tegra234', 'tegra264'].map((s) => cudaArchFor(s)),
    [53, 62, 72, 87, 110],
  );
  t.equal(knownSoc('tegra23x'), 'tegra234', 'jtop family alias');
  t.equal(knownSoc('tegra124'), null, 'TK1 is not supported');
  t.equal(cudaArchFor('tegra264', '12.8'), 101, 'Thor is sm_101 under CUDA 12.8–12.9');
  t.equal(cudaArchFor('tegra264', '13.0.48'), 110);
  t.equal(cudaArchFor('tegra234', '12.8'), 87, 'the CUDA rule is Thor-only');
});

t.test('chip id and module part number → SoC', async (t) => {
  t.same([33, 24, 25, 35, 38].map(socForChipId), ['tegra210', 'tegra186', 'tegra194', 'tegra234', 'tegra264']);
  t.equal(socForChipId(64), null, 'TK1 chip id is not supported');
  t.equal(socForModule('p3448-0000'), 'tegra210');
  t.equal(socForModule('p3767-0005'), 'tegra234');
  t.equal(socForModule('p3450-0000'), null, 'a carrier board id is not a module');
});

t.test('L4T → JetPack', async (t) => {
  const rows: Array<[string, string]> = [
    ['32.4.3', '4.4'],
    ['32.5.0', '4.5'],
    ['32.6.1', '4.6'],
    ['32.7.1', '4.6.1'],
    ['35.4.1', '5.1.2'],
    ['36.4.3', '6.2'],
    ['36.5.0', '6.2.2'],
  ];
  for (const [l4t, jp] of rows) t.equal(jetpackForL4t(l4t), jp, `L4T ${l4t}`);
  t.equal(jetpackForL4t('32.9.9'), null, 'unknown L4T → null, not a guess');
});

t.test('TensorRT → OSS branch and minimum cmake', async (t) => {
  t.same(ossBranchFor('7.1.3'), { branch: 'release/7.1', cmakeMinimum: '3.13' });
  t.same(ossBranchFor('8.0.1'), { branch: 'release/8.0', cmakeMinimum: '3.13' });
  t.same(ossBranchFor('8.2.1'), { branch: 'release/8.2', cmakeMinimum: '3.13' });
  t.same(ossBranchFor('8.5.2'), { branch: 'release/8.5', cmakeMinimum: '3.13' });
  t.same(ossBranchFor('10.3.0'), { branch: 'release/10.3', cmakeMinimum: '3.13' });
  t.same(ossBranchFor('5.1.5'), { branch: 'release/5.1', cmakeMinimum: '3.13' });
  t.same(ossBranchFor('11.0.0'), { branch: 'release/11.0', cmakeMinimum: '3.31' });
  t.same(ossBranchFor('11.5.0'), { branch: 'main', cmakeMinimum: '3.31' }, 'newer than the newest release branch → main');
  t.equal(ossBranchFor('8.1.0'), null, 'no release/8.1 branch exists');
  t.equal(ossBranchFor('garbage'), null);
});

t.test('compareVersions orders dotted versions numerically', async (t) => {
  t.equal(compareVersions('3.10.2', '3.13'), -1);
  t.equal(compareVersions('3.31', '3.31.0'), 0);
  t.equal(compareVersions('10.3.0', '9.3.0'), 1);
});

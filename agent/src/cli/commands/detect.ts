import { detectBoard } from '../../board/detect.js';
import type { BoardInfo } from '../../core/contracts/board.js';
import type { CommandSpec } from '../types.js';

/** Rows of the human table, in the order a person checks a board. */
function rows(b: BoardInfo): Array<[string, string]> {
  const s = (v: string | number | null | undefined): string => (v === null || v === undefined ? '-' : String(v));
  return [
    ['jetson', b.isJetson ? 'yes' : 'no'],
    ['model', s(b.model)],
    ['module', s(b.module)],
    ['soc', s(b.soc)],
    ['chip id', s(b.chipId)],
    ['cuda arch', s(b.cudaArch)],
    ['l4t', s(b.l4t)],
    ['jetpack', s(b.jetpack)],
    ['cuda', s(b.cuda)],
    ['cudnn', s(b.cudnn)],
    ['tensorrt', s(b.tensorrt)],
    ['trt oss branch', b.trtOssBranch ? `${b.trtOssBranch}${b.cmakeMinimum ? ` (cmake >= ${b.cmakeMinimum})` : ''}` : '-'],
    ['cmake', b.cmake ? `${b.cmake.version} (${b.cmake.path})` : '-'],
    ['trt lib dir', s(b.trtLibDir)],
    ['plugin library', s(b.pluginLibrary)],
    ['plugin package', b.pluginPackage ? `${b.pluginPackage.name} ${b.pluginPackage.version}` : '-'],
    ...(b.os ? ([['os', b.os]] as Array<[string, string]>) : []),
  ];
}

export function formatBoard(b: BoardInfo): string {
  const table = rows(b);
  const width = Math.max(...table.map(([k]) => k.length));
  const lines = table.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  for (const w of b.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export const detectCommand: CommandSpec = {
  path: ['detect'],
  summary: 'Detect the board: SoC, CUDA arch, L4T/JetPack, CUDA, cuDNN, TensorRT, cmake, plugin library.',
  description:
    'Reads the host (or the tree given with --root) without changing anything. With --root no program from the tree is run: cmake is read from dpkg or usr/share/cmake-X.Y. See docs/detection.md.',
  examples: ['jetson-agent detect', 'jetson-agent detect --root test/fixtures/boards/nano-jp44 --json'],
  async run(ctx) {
    const { paths } = await ctx.agent();
    const board = await detectBoard(paths, { env: ctx.env, signal: ctx.signal });
    ctx.out.result(board);
    ctx.out.print(formatBoard(board));
  },
};

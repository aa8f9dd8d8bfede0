import { compareVersions } from '../core/versions.js';
export { compareVersions };
/**
 * Board and software-stack tables (pure data + lookups, no I/O).
 * Every value comes from docs/reference/jetson-boards.md and docs/reference/tensorrt-oss-plugin.md; the section is cited per table.
 */

/** docs/reference/jetson-boards.md "SoCs and compute capability": SoC (DT compatible `nvidia,<soc>`) → CUDA compute capability as GPU_ARCHS number. */
export const SOC_CUDA_ARCH: Readonly<Record<string, number>> = {
  tegra210: 53, // TX1, Nano (gm20b, CC 5.3)
  tegra186: 62, // TX2 family (gp10b, CC 6.2)
  tegra194: 72, // AGX Xavier, Xavier NX (gv11b, CC 7.2)
  tegra234: 87, // AGX Orin, Orin NX, Orin Nano (ga10b, CC 8.7)
  tegra264: 110, // AGX Thor (CC 11.0 with CUDA >= 13)
};

/** docs/reference/jetson-boards.md "SoCs and compute capability": jtop also accepts the family aliases listed after the SoC entry. */
const SOC_ALIASES: Readonly<Record<string, string>> = { tegra23x: 'tegra234', tegra26x: 'tegra264' };

/** docs/reference/jetson-boards.md "SoCs and compute capability": chip ids (Linux include/soc/tegra/fuse.h), decimal as in tegra_chip_id. */
export const CHIP_ID_SOC: Readonly<Record<number, string>> = {
  33: 'tegra210', // 0x21
  24: 'tegra186', // 0x18
  25: 'tegra194', // 0x19
  35: 'tegra234', // 0x23
  38: 'tegra264', // 0x26
};

/** docs/reference/jetson-boards.md "Module part numbers" (board id `pNNNN`) → SoC. Used only when no SoC source answered. */
export const MODULE_SOC: Readonly<Record<string, string>> = {
  p2180: 'tegra210', // TX1
  p3448: 'tegra210', // Nano 4GB / eMMC / 2GB
  p3310: 'tegra186', // TX2
  p3489: 'tegra186', // TX2i, TX2 4GB
  p3636: 'tegra186', // TX2 NX
  p2888: 'tegra194', // AGX Xavier
  p3668: 'tegra194', // Xavier NX
  p3701: 'tegra234', // AGX Orin
  p3767: 'tegra234', // Orin NX / Orin Nano
  p3834: 'tegra264', // AGX Thor
};

/** Canonical SoC name for a `tegraNNN` token, or null when the agent does not support it. */
export function knownSoc(token: string): string | null {
  const soc = SOC_ALIASES[token] ?? token;
  return Object.hasOwn(SOC_CUDA_ARCH, soc) ? soc : null;
}

export function socForChipId(chipId: number): string | null {
  return CHIP_ID_SOC[chipId] ?? null;
}

export function socForModule(module: string): string | null {
  return MODULE_SOC[module.slice(0, 5)] ?? null;
}

/**
 * GPU_ARCHS for a SoC. docs/reference/jetson-boards.md "SoCs and compute capability": Thor is CC 11.0 (110) with CUDA >= 13 but was named 10.1 (101)
 * under CUDA 12.8–12.9, so the CUDA version matters for tegra264 only.
 */
export function cudaArchFor(soc: string, cuda?: string | null): number | null {
  const arch = SOC_CUDA_ARCH[soc] ?? null;
  if (soc === 'tegra264' && cuda) {
    const [major, minor] = cuda.split('.').map(Number);
    if (major === 12 && minor !== undefined && minor >= 8) return 101;
  }
  return arch;
}

/** docs/reference/jetson-boards.md "L4T to JetPack": L4T → JetPack (jetson_stats NVIDIA_JETPACK; jetson-containers agrees except 39.x). */
export const L4T_JETPACK: Readonly<Record<string, string>> = {
  '32.1.0': '4.2',
  '32.3.1': '4.3',
  '32.4.2': '4.4 DP',
  '32.4.3': '4.4',
  '32.4.4': '4.4.1',
  '32.5.0': '4.5',
  '32.5.1': '4.5.1',
  '32.5.2': '4.5.1',
  '32.6.1': '4.6',
  '32.7.1': '4.6.1',
  '32.7.2': '4.6.2',
  '32.7.3': '4.6.3',
  '32.7.4': '4.6.4',
  '32.7.5': '4.6.5',
  '32.7.6': '4.6.6',
  '34.0.1': '5.0 PRE-DP',
  '34.1.0': '5.0 DP',
  '34.1.1': '5.0.1 DP',
  '35.1.0': '5.0.2',
  '35.2.1': '5.1',
  '35.3.0': '5.1.1 PRE',
  '35.3.1': '5.1.1',
  '35.4.1': '5.1.2',
  '35.5.0': '5.1.3',
  '35.6.0': '5.1.4',
  '35.6.1': '5.1.5',
  '35.6.2': '5.1.5',
  '35.6.3': '5.1.5',
  '35.6.4': '5.1.6',
  '36.0.0': '6.0 EA',
  '36.2.0': '6.0 DP',
  '36.3.0': '6.0',
  '36.4.0': '6.1',
  '36.4.2': '6.1', // "6.1 (rev1)"; jetson-containers says 6.1.1
  '36.4.3': '6.2',
  '36.4.4': '6.2.1',
  '36.4.7': '6.2.1',
  '36.5.0': '6.2.2',
  '38.1.0': '7.0 EA',
  '38.2.0': '7.0',
  '38.2.1': '7.0',
  '38.2.2': '7.0',
  '38.4.0': '7.1',
  '39.0.0': '7.2 EA',
  '39.2.0': '7.2', // jetson-containers lists 39.1.0 as 7.2 GA: the two tools disagree
};

export function jetpackForL4t(l4t: string): string | null {
  return L4T_JETPACK[l4t] ?? null;
}

/** docs/reference/tensorrt-oss-plugin.md "Branch per TensorRT version": branches that exist in NVIDIA/TensorRT (release/X.Y); newer versions build from main. */
const OSS_RELEASE_BRANCHES: readonly string[] = [
  '5.1', '6.0', '7.0', '7.1', '7.2', '8.0', '8.2', '8.4', '8.5', '8.6',
  '9.0', '9.1', '9.2', '9.3',
  '10.0', '10.1', '10.2', '10.3', '10.4', '10.5', '10.6', '10.7', '10.8', '10.9',
  '10.10', '10.11', '10.12', '10.13', '10.14', '10.15', '10.16',
  '11.0', '11.1',
];

export interface OssBranch {
  /** `release/7.1` or `main`. */
  readonly branch: string;
  /** docs/reference/tensorrt-oss-plugin.md "cmake minimum": `cmake_minimum_required` of that branch. */
  readonly cmakeMinimum: string;
}

/**
 * TensorRT version → TensorRT OSS branch and its minimum cmake (docs/reference/tensorrt-oss-plugin.md "Branch per TensorRT version" and "cmake minimum"): release/5.1 …
 * release/10.16 need cmake 3.13; release/11.x and main need 3.31. A version newer than the
 * newest known branch of its major ≥ 11 maps to main; an unknown older X.Y maps to null.
 */
export function ossBranchFor(tensorrt: string): OssBranch | null {
  const m = /^(\d+)\.(\d+)/.exec(tensorrt);
  if (!m) return null;
  const major = Number(m[1]);
  const xy = `${m[1]}.${Number(m[2])}`;
  const cmakeMinimum = major >= 11 ? '3.31' : '3.13';
  if (OSS_RELEASE_BRANCHES.includes(xy)) return { branch: `release/${xy}`, cmakeMinimum };
  const newest = OSS_RELEASE_BRANCHES[OSS_RELEASE_BRANCHES.length - 1] ?? '0.0';
  if (major >= 11 && compareVersions(xy, newest) > 0) return { branch: 'main', cmakeMinimum: '3.31' };
  return null;
}


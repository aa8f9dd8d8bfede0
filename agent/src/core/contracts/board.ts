/**
 * What board detection reports (docs/detection.md "Sources and precedence"). Produced by board/detect.ts, consumed by the
 * plugin build (branch, GPU_ARCHS, library path), conversion (TensorRT version, arch,
 * JetPack → converter build), health and rollout compatibility checks.
 * JSON keys are part of the CLI contract (`jetson-agent detect --json`).
 */
export interface CmakeInfo {
  readonly version: string;
  /** Absolute path as seen on the board (without the --root prefix). */
  readonly path: string;
}

export interface BoardInfo {
  readonly isJetson: boolean;
  /** /proc/device-tree/model text, display only. */
  readonly model: string | null;
  /** Module part number, e.g. `p3448-0000`. */
  readonly module: string | null;
  /** SoC from DT compatible or tegra_chip_id, e.g. `tegra210`. */
  readonly soc: string | null;
  /** Decimal tegra_chip_id, e.g. 33. */
  readonly chipId: number | null;
  /** CUDA compute capability as GPU_ARCHS number: 53, 62, 72, 87, 110. */
  readonly cudaArch: number | null;
  /** `32.4.3` */
  readonly l4t: string | null;
  /** `4.4` */
  readonly jetpack: string | null;
  /** `10.2.89` or `10.2` */
  readonly cuda: string | null;
  readonly cudnn: string | null;
  /** `7.1.3` (MAJOR.MINOR.PATCH) */
  readonly tensorrt: string | null;
  readonly cmake: CmakeInfo | null;
  /** `release/7.1` */
  readonly trtOssBranch: string | null;
  /** Real file behind libnvinfer_plugin.so.<MAJOR>, board-absolute, e.g. /usr/lib/aarch64-linux-gnu/libnvinfer_plugin.so.7.1.3 */
  readonly pluginLibrary: string | null;
  /** Library directory of TensorRT on the board (TRT_LIB_DIR), e.g. /usr/lib/aarch64-linux-gnu */
  readonly trtLibDir: string | null;
  /** dpkg package owning the plugin library and its version, when known. */
  readonly pluginPackage: { readonly name: string; readonly version: string } | null;
  /** `cmake_minimum_required` of `trtOssBranch` (3.13 up to release/10.x, 3.31 for 11.x/main). */
  readonly cmakeMinimum?: string | null;
  /** /etc/os-release PRETTY_NAME, e.g. `Debian GNU/Linux 12 (bookworm)`. */
  readonly os?: string | null;
  /** Where each value came from (`soc: "compatible"`), for `detect` output and debugging. */
  readonly sources: Readonly<Record<string, string>>;
  /** Non-fatal problems met while reading (malformed files etc.). */
  readonly warnings: readonly string[];
}

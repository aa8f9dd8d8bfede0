import type { BoardInfo } from '../core/contracts/board.js';
import { AgentError } from '../core/errors.js';
import type { HostPaths } from '../platform/paths.js';
import { cudaArchFor, jetpackForL4t, knownSoc, ossBranchFor, socForChipId, socForModule, compareVersions } from './catalog.js';
import { detectCmake } from './detect-cmake.js';
import { HostReader } from './host-reader.js';
import {
  dpkgStack,
  parseChipId,
  parseCompatible,
  parseCudaVersionJson,
  parseCudaVersionTxt,
  parseCudnnHeader,
  parseDpkgStatus,
  parseDtsFilename,
  parseModel,
  nvInferVersionFact,
  parseNvTegraRelease,
  parseOsRelease,
  sonameMajor,
  versionFromLibName,
  type Parsed,
} from './parse.js';

/**
 * Board detection (docs/detection.md "Sources and precedence", docs/reference/jetson-boards.md "Detection order"). Every source is optional;
 * precedence, first answer wins:
 * - soc: compatible `nvidia,tegraNNN` → tegra_chip_id → nvidia,dtsfilename → module part
 *   number (docs/reference/jetson-boards.md "SoCs and compute capability"); never the model text.
 * - module: compatible (`carrier+module` entry) → dtsfilename.
 * - l4t: nv_tegra_release line 1 → dpkg nvidia-l4t-core. jetpack: dpkg nvidia-jetpack → docs/reference/jetson-boards.md "L4T to JetPack".
 * - tensorrt: dpkg libnvinfer<N> (or meta `tensorrt`) → NvInferVersion.h → libnvinfer.so.X.Y.Z.
 * - cuda: version.json → version.txt → dpkg cuda-cudart-X-Y / cuda-toolkit-X-Y.
 * - cudnn: cuDNN version header → dpkg libcudnn<N>.
 * A host without Jetson evidence is `isJetson: false`; a Jetson whose SoC is unknown throws
 * BOARD_UNSUPPORTED.
 */
export interface DetectOptions {
  /** Environment for PATH/HOME when looking for cmake (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
}

export const BOARD_FILES = {
  compatible: '/proc/device-tree/compatible',
  model: '/proc/device-tree/model',
  chipId: '/sys/module/tegra_fuse/parameters/tegra_chip_id',
  dtsfilename: '/proc/device-tree/nvidia,dtsfilename',
  tegraRelease: '/etc/nv_tegra_release',
  dpkgStatus: '/var/lib/dpkg/status',
  osRelease: '/etc/os-release',
  cudaJson: '/usr/local/cuda/version.json',
  cudaTxt: '/usr/local/cuda/version.txt',
} as const;

/** docs/reference/jetson-boards.md "Detecting TensorRT, CUDA and cuDNN": JetPack debs install TensorRT here; x86 CUDA-repo debs use the x86_64 triplet. */
const TRT_LIB_DIRS = ['/usr/lib/aarch64-linux-gnu', '/usr/lib/x86_64-linux-gnu'] as const;
const TRT_HEADERS = ['/usr/include/aarch64-linux-gnu/NvInferVersion.h', '/usr/include/x86_64-linux-gnu/NvInferVersion.h'] as const;
/** docs/reference/jetson-boards.md "Detecting TensorRT, CUDA and cuDNN": JP6 `cudnn_version.h`, JP5 `cudnn_version_v8.h`, cuDNN ≤ 7 kept the macros in cudnn.h. */
const CUDNN_HEADERS = [
  '/usr/include/cudnn_version.h',
  '/usr/include/aarch64-linux-gnu/cudnn_version_v9.h',
  '/usr/include/aarch64-linux-gnu/cudnn_version_v8.h',
  '/usr/include/cudnn.h',
] as const;

export async function detectBoard(paths: HostPaths, options: DetectOptions = {}): Promise<BoardInfo> {
  const reader = new HostReader(paths);
  const sources: Record<string, string> = {};
  const take = <T>(file: string, parsed: Parsed<T>): T => {
    if (parsed.warning) reader.warn(`${file}: ${parsed.warning}`);
    return parsed.value;
  };
  const parseFile = async <T>(file: string, parse: (text: string) => Parsed<T>): Promise<T | undefined> => {
    const text = await reader.text(file);
    return text === undefined ? undefined : take(file, parse(text));
  };

  // identity
  const compatBytes = await reader.bytes(BOARD_FILES.compatible);
  const compat = compatBytes === undefined ? undefined : take(BOARD_FILES.compatible, parseCompatible(compatBytes));
  const modelBytes = await reader.bytes(BOARD_FILES.model);
  const model = modelBytes === undefined ? null : take(BOARD_FILES.model, parseModel(modelBytes));
  const chipId = (await parseFile(BOARD_FILES.chipId, parseChipId)) ?? null;
  const dtsBytes = await reader.bytes(BOARD_FILES.dtsfilename);
  const dts = dtsBytes === undefined ? undefined : take(BOARD_FILES.dtsfilename, parseDtsFilename(dtsBytes));
  const releaseText = await reader.text(BOARD_FILES.tegraRelease);
  const release = releaseText === undefined ? undefined : take(BOARD_FILES.tegraRelease, parseNvTegraRelease(releaseText));

  const module = compat?.module ?? dts?.module ?? null;
  if (model) sources.model = BOARD_FILES.model;
  if (compat?.module) sources.module = BOARD_FILES.compatible;
  else if (dts?.module) sources.module = BOARD_FILES.dtsfilename;
  if (chipId !== null) sources.chipId = BOARD_FILES.chipId;

  const candidates: Array<[string, string | null]> = [
    [BOARD_FILES.compatible, compat?.socToken ? knownSoc(compat.socToken) : null],
    [BOARD_FILES.chipId, chipId !== null ? socForChipId(chipId) : null],
    [BOARD_FILES.dtsfilename, dts?.socToken ? knownSoc(dts.socToken) : null],
    [`module ${module ?? ''} (${sources.module ?? ''})`, module ? socForModule(module) : null],
  ];
  const first = candidates.find(([, soc]) => soc !== null);
  const soc = first?.[1] ?? null;
  if (first) sources.soc = first[0];
  for (const [src, other] of candidates) {
    if (soc && other && other !== soc) reader.warn(`${src} says ${other} but ${sources.soc ?? ''} says ${soc}; using ${soc}`);
  }

  const jetsonEvidence = Boolean(compat?.tegra) || releaseText !== undefined || chipId !== null || Boolean(dts?.socToken);
  if (jetsonEvidence && !soc) throw unsupported(compat?.entries ?? [], chipId, dts?.socToken ?? null, release?.l4t ?? null, model);

  // software stack
  const dpkgText = await reader.text(BOARD_FILES.dpkgStatus);
  const dpkgParsed = dpkgText === undefined ? undefined : parseDpkgStatus(dpkgText);
  if (dpkgParsed && dpkgParsed.skipped > 0) reader.warn(`${BOARD_FILES.dpkgStatus}: ${dpkgParsed.skipped} stanza(s) without Package/Version ignored`);
  const dpkg = dpkgParsed ? dpkgStack(dpkgParsed.packages) : undefined;
  const dpkgSrc = (pkg: string): string => `${BOARD_FILES.dpkgStatus} (${pkg})`;

  let l4t = release?.l4t ?? null;
  if (l4t) sources.l4t = BOARD_FILES.tegraRelease;
  else if (dpkg?.l4t) {
    l4t = dpkg.l4t;
    sources.l4t = dpkgSrc('nvidia-l4t-core');
  }
  let jetpack = dpkg?.jetpack ?? null;
  if (jetpack) sources.jetpack = dpkgSrc('nvidia-jetpack');
  else if (l4t && (jetpack = jetpackForL4t(l4t))) sources.jetpack = `L4T ${l4t} (docs/reference/jetson-boards.md "L4T to JetPack")`;

  // TensorRT: dpkg, header, library file names
  let tensorrt: string | null = null;
  if (dpkg?.tensorrt) {
    tensorrt = dpkg.tensorrt.version;
    sources.tensorrt = dpkgSrc(dpkg.tensorrt.package);
  }
  for (const header of TRT_HEADERS) {
    const parsed = await parseFile(header, nvInferVersionFact);
    if (!parsed) continue;
    if (!tensorrt) {
      tensorrt = parsed.version;
      sources.tensorrt = header;
    } else if (parsed.version !== tensorrt) {
      reader.warn(`${header} says TensorRT ${parsed.version} but ${sources.tensorrt ?? ''} says ${tensorrt}`);
    }
    break;
  }
  const libs = await findTrtLibs(reader, tensorrt);
  if (!tensorrt && libs.tensorrt) {
    tensorrt = libs.tensorrt;
    sources.tensorrt = libs.tensorrtSource ?? '';
  }
  if (libs.pluginLibrary) sources.pluginLibrary = libs.pluginSource ?? '';

  // CUDA and cuDNN
  let cuda = (await parseFile(BOARD_FILES.cudaJson, parseCudaVersionJson)) ?? null;
  if (cuda) sources.cuda = BOARD_FILES.cudaJson;
  else if ((cuda = (await parseFile(BOARD_FILES.cudaTxt, parseCudaVersionTxt)) ?? null)) sources.cuda = BOARD_FILES.cudaTxt;
  else if (dpkg?.cuda) {
    cuda = dpkg.cuda.version;
    sources.cuda = dpkgSrc(dpkg.cuda.package);
  }
  let cudnn: string | null = null;
  for (const header of CUDNN_HEADERS) {
    const v = await parseFile(header, parseCudnnHeader);
    if (v) {
      cudnn = v;
      sources.cudnn = header;
      break;
    }
  }
  if (!cudnn && dpkg?.cudnn) {
    cudnn = dpkg.cudnn.version;
    sources.cudnn = dpkgSrc(dpkg.cudnn.package);
  }

  const cmakeFound = await detectCmake(reader, dpkg?.cmake ?? null, options.env ?? process.env, options.signal);
  if (cmakeFound.source) sources.cmake = cmakeFound.source;
  const oss = tensorrt ? ossBranchFor(tensorrt) : null;
  if (tensorrt && !oss) reader.warn(`no TensorRT OSS branch is known for TensorRT ${tensorrt}`);
  if (oss && cmakeFound.cmake && compareVersions(cmakeFound.cmake.version, oss.cmakeMinimum) < 0) {
    reader.warn(`cmake ${cmakeFound.cmake.version} is older than ${oss.cmakeMinimum}, the minimum of ${oss.branch}`);
  }
  const os = (await parseFile(BOARD_FILES.osRelease, parseOsRelease)) ?? null;
  if (os) sources.os = BOARD_FILES.osRelease;

  const plugin = dpkg?.pluginPackage ?? null;
  if (plugin && tensorrt && /(\d+)$/.exec(plugin.name)?.[1] !== tensorrt.split('.')[0]) {
    reader.warn(`plugin package ${plugin.name} does not match TensorRT ${tensorrt}`);
  }
  if (soc) sources.cudaArch = `${soc} (docs/reference/jetson-boards.md "SoCs and compute capability")`;

  return {
    isJetson: soc !== null,
    model,
    module,
    soc,
    chipId,
    cudaArch: soc ? cudaArchFor(soc, cuda) : null,
    l4t,
    jetpack,
    cuda,
    cudnn,
    tensorrt,
    cmake: cmakeFound.cmake,
    trtOssBranch: oss?.branch ?? null,
    cmakeMinimum: oss?.cmakeMinimum ?? null,
    pluginLibrary: libs.pluginLibrary,
    trtLibDir: libs.dir,
    pluginPackage: plugin,
    os,
    sources,
    warnings: reader.warnings,
  };
}

interface TrtLibs {
  readonly dir: string | null;
  readonly tensorrt: string | null;
  readonly tensorrtSource: string | null;
  readonly pluginLibrary: string | null;
  readonly pluginSource: string | null;
}

/**
 * docs/reference/jetson-boards.md "Detecting TensorRT, CUDA and cuDNN" / docs/plugin.md "`plugin install`": the plugin library is the real file behind `libnvinfer_plugin.so.<MAJOR>`
 * (the SONAME link the loader uses), board-absolute. Without that link the single versioned
 * file is used, with a warning.
 */
async function findTrtLibs(reader: HostReader, tensorrt: string | null): Promise<TrtLibs> {
  for (const dir of TRT_LIB_DIRS) {
    const names = await reader.list(dir);
    const trtNames = names.filter((n) => /^libnvinfer(_plugin)?\.so\.\d/.test(n));
    if (trtNames.length === 0) continue;
    const fromName = trtNames
      .map((n) => versionFromLibName(n, 'libnvinfer'))
      .filter((v): v is string => v !== null)
      .sort(compareVersions)
      .pop();
    const majors = trtNames.map((n) => sonameMajor(n, 'libnvinfer_plugin')).filter((m): m is number => m !== null);
    // The SONAME major of the installed TensorRT; without a version, the highest link present.
    const known = tensorrt ?? fromName;
    const wanted = known ? Number(known.split('.')[0]) : Math.max(0, ...majors);
    let pluginLibrary: string | null = null;
    let pluginSource: string | null = null;
    if (majors.includes(wanted)) {
      const link = `${dir}/libnvinfer_plugin.so.${wanted}`;
      const real = await reader.real(link);
      if (real) {
        pluginLibrary = real;
        pluginSource = link;
      } else reader.warn(`${link} is a dangling link`);
    } else {
      const versioned = trtNames.filter((n) => versionFromLibName(n, 'libnvinfer_plugin')?.startsWith(`${wanted}.`));
      if (versioned.length === 1 && versioned[0]) {
        pluginLibrary = `${dir}/${versioned[0]}`;
        pluginSource = pluginLibrary;
        reader.warn(`${dir}/libnvinfer_plugin.so.${wanted} is missing; using ${versioned[0]} (run ldconfig?)`);
      } else if (majors.length > 0 && tensorrt) {
        reader.warn(`${dir} has libnvinfer_plugin.so.${majors.join('/')} but TensorRT is ${tensorrt}`);
      }
    }
    return {
      dir,
      tensorrt: fromName ?? null,
      tensorrtSource: fromName ? `${dir}/libnvinfer.so.${fromName}` : null,
      pluginLibrary,
      pluginSource,
    };
  }
  return { dir: null, tensorrt: null, tensorrtSource: null, pluginLibrary: null, pluginSource: null };
}

function unsupported(entries: readonly string[], chipId: number | null, dtsSoc: string | null, l4t: string | null, model: string | null): AgentError {
  const found = [
    entries.length ? `compatible "${entries.join(' ')}"` : 'no DT compatible',
    chipId !== null ? `tegra_chip_id ${chipId}` : null,
    dtsSoc ? `dtsfilename SoC ${dtsSoc}` : null,
    l4t ? `L4T ${l4t}` : null,
    model ? `model "${model}"` : null,
  ].filter(Boolean);
  return new AgentError('BOARD_UNSUPPORTED', `This host looks like a Jetson but its SoC is not one the agent supports (found: ${found.join(', ')}).`, {
    hint: 'Supported SoCs: tegra210, tegra186, tegra194, tegra234, tegra264; check /proc/device-tree/compatible, or report the board with `jetson-agent detect --json` output.',
    details: { compatible: [...entries], chipId, dtsSoc, l4t },
  });
}

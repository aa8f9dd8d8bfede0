import { AgentError } from '../core/errors.js';
import type { BoardInfo } from '../core/contracts/board.js';
import type { HostPaths } from '../platform/paths.js';
import { which } from '../platform/exec.js';
import type { ConverterTool } from './args.js';

/**
 * Where converters live (issue #4 §5): the configured path wins; otherwise the usual install
 * places, then PATH. Board paths are resolved under the host root like every host path.
 */
export const TLT_CONVERTER_NAMES = ['tao-converter', 'tlt-converter'] as const;
export const TLT_CONVERTER_DIRS = ['/usr/local/bin', '/opt/nvidia/tao-converter', '/opt/tao-converter', '/opt/tlt-converter', '/usr/lib/jetson-agent/bin'];
/** JetPack installs trtexec here (docs/reference/tensorrt-conversion.md "trtexec"), not on PATH. */
export const TRTEXEC_PATHS = ['/usr/src/tensorrt/bin/trtexec'];

export interface ConverterConfig {
  readonly tltConverter: string;
  readonly trtexec: string;
}

/** Where to get a converter for the installed TensorRT (docs/reference/tensorrt-conversion.md "Converter downloads"). */
export function converterDownloadHint(tool: ConverterTool, board: Pick<BoardInfo, 'tensorrt' | 'jetpack'>): string {
  const trt = board.tensorrt ?? '';
  const jp = board.jetpack ? `JetPack ${board.jetpack}` : 'this JetPack';
  if (tool === 'trtexec') {
    return `trtexec ships with TensorRT on ${jp} at /usr/src/tensorrt/bin/trtexec (package libnvinfer-bin / tensorrt); install it or set convert.trtexec.`;
  }
  const [maj = '', min = ''] = trt.split('.');
  const mm = `${maj}.${min}`;
  const ngc = (tag: string): string => `NGC resource nvidia/tao/tao-converter, version ${tag} (https://api.ngc.nvidia.com/v2/resources/nvidia/tao/tao-converter/versions/${tag}/files/tao-converter)`;
  const where: Record<string, string> = {
    '5.1': 'the TRT 5.1 tlt-converter build (JetPack 4.2.2)',
    '6.0': 'https://developer.nvidia.com/tlt-converter-trt60 (JetPack 4.3)',
    '7.1': `${ngc('v3.21.11_trt7.1_aarch64')}, or https://developer.nvidia.com/tao-converter-jp4.5 (JetPack 4.4/4.5)`,
    '8.0': `${ngc('v3.21.11_trt8.0_aarch64')}, or https://developer.nvidia.com/tao-converter-jp4.6 (JetPack 4.6)`,
    '8.4': ngc('v3.22.05_trt8.4_aarch64'),
    '8.5': `${ngc('v3.22.05_trt8.4_aarch64')} (NVIDIA: "can work" on JetPack 5.1 / TRT 8.5.2)`,
  };
  const w = where[mm];
  if (w) return `Install tao-converter for TensorRT ${trt} (${jp}): ${w}; chmod +x it and put it in /usr/local/bin or set convert.tltConverter.`;
  if (Number(maj) >= 9 || mm === '8.6') {
    return `No tao-converter exists for TensorRT ${trt} on Jetson (${jp}); a UFF .etlt cannot be converted here: re-export the model with TAO ≥ 5 as plain .onnx and package that (converted with trtexec).`;
  }
  return `Find the tao-converter build for TensorRT ${trt || '(unknown)'} (${jp}) in NVIDIA's TAO Converter support matrix (docs/models.md), then set convert.tltConverter.`;
}

export async function findConverter(tool: ConverterTool, cfg: ConverterConfig, paths: HostPaths, board: Pick<BoardInfo, 'tensorrt' | 'jetpack'>): Promise<string> {
  const configured = tool === 'trtexec' ? cfg.trtexec : cfg.tltConverter;
  if (configured) {
    const found = await which(configured);
    if (found) return found;
    throw new AgentError('CONVERTER_NOT_FOUND', `convert.${tool === 'trtexec' ? 'trtexec' : 'tltConverter'} is set to ${configured}, which is not an executable file.`, {
      hint: converterDownloadHint(tool, board),
    });
  }
  const candidates = tool === 'trtexec' ? TRTEXEC_PATHS.map((p) => paths.toHost(p)) : TLT_CONVERTER_DIRS.flatMap((d) => TLT_CONVERTER_NAMES.map((n) => paths.toHost(`${d}/${n}`)));
  for (const c of candidates) {
    const found = await which(c);
    if (found) return found;
  }
  for (const name of tool === 'trtexec' ? ['trtexec'] : TLT_CONVERTER_NAMES) {
    const found = await which(name);
    if (found) return found;
  }
  throw new AgentError('CONVERTER_NOT_FOUND', `No ${tool === 'trtexec' ? 'trtexec' : 'tao-converter/tlt-converter'} found (config, ${tool === 'trtexec' ? TRTEXEC_PATHS.join(', ') : TLT_CONVERTER_DIRS.join(', ')}, PATH).`, {
    hint: converterDownloadHint(tool, board),
  });
}

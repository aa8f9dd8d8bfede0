import { UsageError } from '../core/errors.js';
import { PLUGIN_NAME_PATTERN } from '../core/tensorrt-plugins.js';
import { parseRange } from './versions.js';
import type { Requirements } from './types.js';

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** `2GiB`, `500MB`, `1073741824` → bytes. */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m?.[2]?.toLowerCase() ?? '';
  const mult = BYTE_UNITS[unit];
  if (!m?.[1] || mult === undefined) return undefined;
  return Math.round(Number(m[1]) * mult);
}

const HINT = 'Use --requires soc=tegra194,tegra234 | cudaArch=72,87 | tensorrt=">=8.5 <9" | jetpack=5.1 | minFreeDisk=2GiB | plugins=BatchedNMS_TRT,BatchTilePlugin_TRT (repeatable).';

/** `--requires KEY=VALUE` items → Requirements. Later items replace earlier ones for the same key. */
export function parseRequires(items: readonly string[]): Requirements {
  const out: { -readonly [K in keyof Requirements]: Requirements[K] } = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    const value = eq > 0 ? item.slice(eq + 1).trim() : '';
    if (!key || !value) throw new UsageError(`Bad --requires "${item}": expected KEY=VALUE.`, HINT);
    const list = (): string[] => value.split(',').map((s) => s.trim()).filter(Boolean);
    switch (key) {
      case 'soc':
        out.soc = list();
        break;
      case 'cudaArch': {
        const archs = list();
        if (!archs.every((a) => /^\d+$/.test(a))) throw new UsageError(`Bad --requires "${item}": CUDA archs are integers such as 53, 72, 87.`, HINT);
        out.cudaArch = archs.map(Number);
        break;
      }
      case 'tensorrt':
      case 'jetpack':
        parseRange(value, `--requires ${key}`); // validate now, not per device
        out[key] = value;
        break;
      case 'minFreeDisk': {
        const bytes = parseBytes(value);
        if (bytes === undefined) throw new UsageError(`Bad --requires "${item}": expected a size such as 2GiB or 500MB.`, HINT);
        out.minFreeDiskBytes = bytes;
        break;
      }
      case 'plugins': {
        const names = list();
        const bad = names.find((n) => !new RegExp(PLUGIN_NAME_PATTERN).test(n));
        if (bad !== undefined) throw new UsageError(`Bad --requires "${item}": "${bad}" is not a TensorRT plugin creator name such as BatchedNMS_TRT.`, HINT);
        out.plugins = [...new Set(names)];
        break;
      }
      default:
        throw new UsageError(`Unknown --requires key "${key}".`, HINT);
    }
  }
  return out;
}

/**
 * Ultralytics ONNX exports carry their settings as metadata_props (ultralytics/engine/exporter.py
 * writes str() of each value): `names` is a Python dict literal `{0: 'person', 1: 'bicycle', …}`,
 * `imgsz` a list `[640, 640]`, `stride` an int, plus task, author, license, version. Pure; null
 * when the graph has none of them.
 */
export interface UltralyticsMeta {
  /** Class names by id (ids 0…n−1; a gap is filled with `class<id>`). */
  readonly names: readonly string[] | null;
  /** [height, width]. */
  readonly imgsz: readonly [number, number] | null;
  readonly stride: number | null;
  readonly task: string | null;
}

export function parseNamesDict(text: string): string[] | null {
  const entries = [...text.matchAll(/(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g)];
  if (entries.length === 0) return null;
  const byId = new Map<number, string>();
  for (const e of entries) byId.set(Number(e[1]), (e[2] ?? e[3] ?? '').replace(/\\(.)/g, '$1'));
  const max = Math.max(...byId.keys());
  if (max > 100_000) return null;
  return Array.from({ length: max + 1 }, (_, i) => byId.get(i) ?? `class${i}`);
}

export function parseUltralyticsMeta(meta: Readonly<Record<string, string>>): UltralyticsMeta | null {
  if (meta.names === undefined && meta.imgsz === undefined && meta.stride === undefined) return null;
  const nums = (meta.imgsz ?? '').match(/\d+/g)?.map(Number) ?? [];
  const imgsz: [number, number] | null = nums.length === 1 ? [nums[0]!, nums[0]!] : nums.length >= 2 ? [nums[0]!, nums[1]!] : null;
  const stride = meta.stride !== undefined && /^\s*\d+\s*$/.test(meta.stride) ? Number(meta.stride) : null;
  return { names: meta.names ? parseNamesDict(meta.names) : null, imgsz, stride, task: meta.task ?? null };
}

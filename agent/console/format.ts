/**
 * Pure helpers of the board console (no DOM): formatting, the client-side threshold filter and
 * the curl line. Unit-tested from test/unit/console/.
 */
export interface Box {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}
export interface Detection {
  readonly label: string;
  readonly classId: number;
  readonly score: number;
  readonly box: Box;
}

/** The detections a threshold keeps: the same rule as the server's (score ≥ threshold). */
export function keep(detections: readonly Detection[], threshold: number): Detection[] {
  return detections.filter((d) => d.score >= threshold);
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function num(n: number | null | undefined, digits = 1, unit = ''): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return `${n.toFixed(digits)}${unit}`;
}

/** "3 min ago" style, from ms. */
export function ago(thenMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** POSIX shell single-quoting. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The curl a user would run for the same detection (docs/http-api.md). */
export function curlFor(o: { origin: string; file: string; contentType: string; threshold: number; token: boolean }): string {
  const url = `${o.origin}/v1/detect?threshold=${o.threshold.toFixed(2)}`;
  const parts = ['curl -s -X POST', `--data-binary @${shellQuote(o.file)}`, `-H ${shellQuote(`Content-Type: ${o.contentType}`)}`];
  if (o.token) parts.push(`-H "Authorization: Bearer $TOKEN"`);
  parts.push(shellQuote(url));
  return parts.join(' ');
}

/** Content-Type the detect route accepts for a chosen file. */
export function imageType(name: string, browserType: string): string {
  if (browserType === 'image/jpeg' || browserType === 'image/png') return browserType;
  if (/\.png$/i.test(name)) return 'image/png';
  if (/\.jpe?g$/i.test(name)) return 'image/jpeg';
  return 'application/octet-stream';
}

/** A stable colour per class id. */
export function classColor(classId: number): string {
  const palette = ['#f94144', '#43aa8b', '#f9c74f', '#577590', '#f3722c', '#90be6d', '#f8961e', '#4d908e', '#277da1', '#ff7eb6'];
  return palette[((classId % palette.length) + palette.length) % palette.length] ?? '#f94144';
}

/**
 * Colour for human output. On when the stream is a TTY, off with --json, `NO_COLOR` set to
 * anything non-empty (https://no-color.org/) or `TERM=dumb`; `FORCE_COLOR` (non-empty, not "0")
 * turns it on for a pipe, as in Node's own util.styleText.
 */
export type Paint = (text: string) => string;

export interface Palette {
  readonly enabled: boolean;
  readonly bold: Paint;
  readonly dim: Paint;
  readonly red: Paint;
  readonly green: Paint;
  readonly yellow: Paint;
  readonly cyan: Paint;
}

export function useColor(isTTY: boolean, env: Readonly<Record<string, string | undefined>>, json: boolean): boolean {
  if (json) return false;
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return isTTY && env.TERM !== 'dumb';
}

const sgr = (open: number, close: number): Paint => (t) => `\x1b[${open}m${t}\x1b[${close}m`;

export function palette(enabled: boolean): Palette {
  const id: Paint = (t) => t;
  return enabled
    ? { enabled, bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) }
    : { enabled, bold: id, dim: id, red: id, green: id, yellow: id, cyan: id };
}

/** Visible width: escape sequences take no columns. */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex -- SGR sequences are what is being removed
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** A left-aligned table; widths from the visible text, so coloured cells line up. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], p: Palette): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleLength(c))))
      .join('  ')
      .trimEnd();
  return [p.bold(line(head)), ...rows.map(line)].join('\n');
}

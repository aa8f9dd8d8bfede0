/**
 * Percentages as integer hundredths (12.5% → 1250) so that "10% of 30" is exactly 3:
 * in floating point 0.1 * 30 = 3.0000000000000004 and rounding up would give 4.
 */
export function parsePercent(text: string): number | undefined {
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?%$/.exec(text.trim());
  if (!m?.[1]) return undefined;
  const hundredths = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return hundredths <= 10_000 ? hundredths : undefined;
}

/** ceil(total × hundredths / 10000) in integers. */
export function percentOfCeil(total: number, hundredths: number): number {
  return Math.floor((total * hundredths + 9_999) / 10_000);
}

export function formatPercent(hundredths: number): string {
  const whole = Math.floor(hundredths / 100);
  const frac = hundredths % 100;
  return frac === 0 ? `${whole}%` : `${whole}.${String(frac).padStart(2, '0').replace(/0$/, '')}%`;
}

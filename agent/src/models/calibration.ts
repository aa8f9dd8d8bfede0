import { AgentError } from '../core/errors.js';

/**
 * INT8 calibration cache (docs/reference/tensorrt-conversion.md "INT8 calibration cache"): plain text, first line a header such as
 * `TRT-7000-EntropyCalibration2`, then one `<tensor>: <8 hex digits>` line per tensor (the
 * IEEE-754 bit pattern of the scale). Pure. Checked at package create and intake so a wrong
 * file (e.g. the .etlt itself) is refused before a conversion fails on it.
 */
export interface CalibrationInfo {
  readonly header: string;
  /** The number in the header (`7000` reads as TensorRT 7.0.0 — UNCONFIRMED, docs/reference/tensorrt-conversion.md "INT8 calibration cache"). */
  readonly writerTag: number;
  readonly calibrator: string;
  readonly tensors: number;
}

const HEADER = /^TRT-(\d+)-([A-Za-z0-9_]+)$/;
const LINE = /^(.+): ([0-9a-fA-F]{1,8})$/;

export function parseCalibrationCache(text: string, file = 'calibration cache'): CalibrationInfo {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const bad = (line: number, what: string): AgentError =>
    new AgentError('PACKAGE_INVALID', `${file}:${line}: ${what}; this is not a TensorRT INT8 calibration cache.`, {
      hint: 'Pass the cal.bin written by tlt-export/tao export (--cal_cache_file) or tao-converter -c.',
    });
  const m = HEADER.exec(lines[0] ?? '');
  if (!m) throw bad(1, 'the first line is not a header like "TRT-7000-EntropyCalibration2"');
  for (let i = 1; i < lines.length; i++) {
    if (!LINE.test(lines[i] ?? '')) throw bad(i + 1, 'expected "<tensor>: <hex scale>"');
  }
  if (lines.length < 2) throw bad(2, 'no tensor scales');
  return { header: lines[0] ?? '', writerTag: Number(m[1]), calibrator: m[2] ?? '', tensors: lines.length - 1 };
}

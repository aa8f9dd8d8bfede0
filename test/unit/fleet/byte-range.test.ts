import t from 'tap';
import { parseByteRange } from '../../../agent/src/fleet/byte-range.js';

t.test('parseByteRange table (file of 1000 bytes unless noted)', async (t) => {
  const table: [string | undefined, number, ReturnType<typeof parseByteRange>][] = [
    [undefined, 1000, { kind: 'full' }],
    ['bytes=0-99', 1000, { kind: 'partial', start: 0, end: 99 }],
    ['bytes=100-', 1000, { kind: 'partial', start: 100, end: 999 }],
    ['bytes=-100', 1000, { kind: 'partial', start: 900, end: 999 }],
    ['bytes=-5000', 1000, { kind: 'partial', start: 0, end: 999 }], // suffix longer than the file: whole file as 206
    ['bytes=990-5000', 1000, { kind: 'partial', start: 990, end: 999 }], // last byte clamped
    ['bytes=999-999', 1000, { kind: 'partial', start: 999, end: 999 }],
    ['bytes=1000-', 1000, { kind: 'unsatisfiable' }],
    ['bytes=5000-6000', 1000, { kind: 'unsatisfiable' }],
    ['bytes=-0', 1000, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }], // nothing to send from an empty file
    ['bytes=50-10', 1000, { kind: 'full' }], // invalid: ignored
    ['bytes=0-1,5-6', 1000, { kind: 'full' }], // several ranges: ignored, whole file
    ['items=0-1', 1000, { kind: 'full' }],
    ['bytes=-', 1000, { kind: 'full' }],
  ];
  for (const [header, size, want] of table) t.same(parseByteRange(header, size), want, `${header ?? '(none)'} / ${size}`);
});

import t from 'tap';
import { parseCalibrationCache } from '../../../agent/src/models/calibration.js';

t.test('INT8 calibration cache: header and tensor lines (docs/reference/tensorrt-conversion.md "INT8 calibration cache")', async (t) => {
  const info = parseCalibrationCache('TRT-7000-EntropyCalibration2\nInput: 3f9849a2\nconv1/convolution: 3c8954d3\n');
  t.same(info, { header: 'TRT-7000-EntropyCalibration2', writerTag: 7000, calibrator: 'EntropyCalibration2', tensors: 2 });
  t.throws(() => parseCalibrationCache('\u0005\u0000\u0000\u0000Input…binary', 'cal.bin'), { code: 'PACKAGE_INVALID', message: /cal\.bin:1: the first line is not a header/ });
  t.throws(() => parseCalibrationCache('TRT-8201-EntropyCalibration2\nInput: 3f9849a2\nnot a scale line\n', 'cal.bin'), { code: 'PACKAGE_INVALID', message: /cal\.bin:3: expected/ });
  t.throws(() => parseCalibrationCache('TRT-8201-EntropyCalibration2\n', 'cal.bin'), { code: 'PACKAGE_INVALID', message: /no tensor scales/ });
});

import type { DetectorFamilyName } from '../../core/contracts/detector.js';
import { decodeDetectNetV2 } from './detectnet-v2.js';
import { decodeDetr } from './detr.js';
import { decodeEfficientNms } from './efficient-nms.js';
import { decodeOnnxNms } from './onnx-nms.js';
import { decodeTaoBatchedNms } from './tao-batched-nms.js';
import type { Decoder } from './types.js';
import { decodeYoloEnd2end } from './yolo-end2end.js';
import { decodeYoloV5 } from './yolov5.js';
import { decodeYoloV8 } from './yolov8.js';
import { decodeYolox } from './yolox.js';

/** One decoder per family, and whether its NMS runs here (so a request may set the IoU). */
export interface FamilyDecoder {
  readonly decode: Decoder;
  /** The agent runs this family's NMS/clustering in code: `iou` is a per-model and per-request setting. */
  readonly nmsInCode: boolean;
}

export const DECODERS: Readonly<Record<DetectorFamilyName, FamilyDecoder>> = {
  'tao-batched-nms': { decode: decodeTaoBatchedNms, nmsInCode: false },
  'efficient-nms': { decode: decodeEfficientNms, nmsInCode: false },
  'onnx-nms': { decode: decodeOnnxNms, nmsInCode: false },
  'detectnet-v2': { decode: decodeDetectNetV2, nmsInCode: true },
  yolov5: { decode: decodeYoloV5, nmsInCode: true },
  yolov8: { decode: decodeYoloV8, nmsInCode: true },
  'yolo-end2end': { decode: decodeYoloEnd2end, nmsInCode: false },
  yolox: { decode: decodeYolox, nmsInCode: true },
  detr: { decode: decodeDetr, nmsInCode: false },
};

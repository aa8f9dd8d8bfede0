import type { DetectorFamilyName } from '../../core/contracts/detector.js';
import type { ModelManifest } from '../../core/contracts/model.js';

/**
 * Each family's upstream pre-processing and thresholds (docs/reference/model-families.md;
 * docs/models.md "Profiles" gives the source of each line). The manifest records them; flags at
 * `jetson-fleet package create` override any field. Pure data.
 */
export type Profile = Pick<ModelManifest['input'], 'colorOrder' | 'mean' | 'scale' | 'resize'> &
  Pick<Partial<ModelManifest['input']>, 'std' | 'pad' | 'resample' | 'sizeRounding'>;

export interface FamilyDefaults {
  readonly profile: Profile;
  readonly confidenceThreshold: number;
  readonly iouThreshold: number;
  readonly maxDetections: number;
}

/** Ultralytics LetterBox: centred, pad 114, RGB, ÷ 255, cv2.resize INTER_LINEAR. */
const ULTRALYTICS: Profile = { colorOrder: 'rgb', mean: [0, 0, 0], scale: 1 / 255, resize: 'letterbox-center', pad: 114, resample: 'opencv-linear' };

export const FAMILY_DEFAULTS: Readonly<Record<DetectorFamilyName, FamilyDefaults>> = {
  // TAO YOLOv3/v4: BGR minus the ImageNet mean in 0–255, letterbox centred (the spec refines it).
  'tao-batched-nms': { profile: { colorOrder: 'bgr', mean: [103.939, 116.779, 123.68], scale: 1, resize: 'letterbox-center' }, confidenceThreshold: 0.3, iouThreshold: 0.5, maxDetections: 200 },
  // Model-specific; most EfficientNMS graphs in the field are re-exported YOLOs.
  'efficient-nms': { profile: ULTRALYTICS, confidenceThreshold: 0.25, iouThreshold: 0.45, maxDetections: 100 },
  // ONNX model zoo YOLOv3: RGB ÷ 255, letterbox centred, pad 128.
  'onnx-nms': { profile: { colorOrder: 'rgb', mean: [0, 0, 0], scale: 1 / 255, resize: 'letterbox-center', pad: 128, resample: 'opencv-linear' }, confidenceThreshold: 0.3, iouThreshold: 0.5, maxDetections: 100 },
  // DeepStream's DetectNet_v2 configs: RGB, net-scale-factor 1/255, plain resize; pre-cluster-threshold 0.2–0.4.
  'detectnet-v2': { profile: { colorOrder: 'rgb', mean: [0, 0, 0], scale: 1 / 255, resize: 'stretch' }, confidenceThreshold: 0.3, iouThreshold: 0.5, maxDetections: 100 },
  // YOLOv5 detect.py: conf 0.25, IoU 0.45, max_det 1000.
  yolov5: { profile: ULTRALYTICS, confidenceThreshold: 0.25, iouThreshold: 0.45, maxDetections: 1000 },
  // Ultralytics predict defaults: conf 0.25, IoU 0.7, max_det 300.
  yolov8: { profile: ULTRALYTICS, confidenceThreshold: 0.25, iouThreshold: 0.7, maxDetections: 300 },
  'yolo-end2end': { profile: ULTRALYTICS, confidenceThreshold: 0.25, iouThreshold: 0.7, maxDetections: 300 },
  // YOLOX preproc: BGR, raw 0–255, top-left, pad 114, cv2 INTER_LINEAR; demo: conf 0.3, NMS 0.45.
  yolox: { profile: { colorOrder: 'bgr', mean: [0, 0, 0], scale: 1, resize: 'letterbox-topleft', pad: 114, resample: 'opencv-linear', sizeRounding: 'floor' }, confidenceThreshold: 0.3, iouThreshold: 0.45, maxDetections: 300 },
  // TAO DINO / RT-DETR: RGB, ImageNet mean/std, plain resize.
  detr: { profile: { colorOrder: 'rgb', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], scale: 1, resize: 'stretch' }, confidenceThreshold: 0.3, iouThreshold: 0.5, maxDetections: 100 },
};

import path from 'node:path';
import { REPO_ROOT } from './cli.js';

/**
 * What each spec fixture must give, worked out by hand from the fixture text (each
 * fixture's header names the public NVIDIA file whose layout it follows). Used by the
 * derivation table (test/unit/models/spec-layouts.test.ts) and the converter-argument table
 * (test/unit/convert/args.test.ts).
 */
export interface SpecExpectation {
  readonly file: string;
  readonly layout: 'tao' | 'tlt2';
  readonly network: 'yolov3' | 'yolov4' | 'yolov4-tiny';
  readonly arch: string;
  readonly nlayers: number | null;
  readonly c: 1 | 3;
  readonly h: number;
  readonly w: number;
  readonly depth: 8 | 16;
  readonly mean: number[];
  readonly classes: string[];
  readonly nms: { confidenceThreshold: number; iouThreshold: number; topK: number };
  readonly scoreBits: number;
  /** Anchor groups big/mid/small. */
  readonly anchors: [number, number, number];
  /** Every warning the spec must give (none for most NVIDIA layouts). */
  readonly warnings: RegExp[];
}

export const SPEC_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'specs');
export const specPath = (file: string): string => path.join(SPEC_DIR, file);

const BGR = [103.939, 116.779, 123.68];
const NMS_DEFAULT = { confidenceThreshold: 0.001, iouThreshold: 0.5, topK: 200 };

export const SPEC_EXPECTATIONS: readonly SpecExpectation[] = [
  { file: 'yolov3_kitti_seed.txt', layout: 'tlt2', network: 'yolov3', arch: 'darknet', nlayers: 53, c: 3, h: 384, w: 1248, depth: 8, mean: BGR, classes: ['car', 'cyclist', 'pedestrian'], nms: { confidenceThreshold: 0.01, iouThreshold: 0.6, topK: 200 }, scoreBits: 0, anchors: [3, 3, 3], warnings: [] },
  { file: 'tao5_yolo_v3_train_kitti_seq.txt', layout: 'tao', network: 'yolov3', arch: 'resnet', nlayers: 34, c: 3, h: 544, w: 960, depth: 8, mean: BGR, classes: ['bicycle', 'person', 'vehicle'], nms: { confidenceThreshold: 0.005, iouThreshold: 0.55, topK: 150 }, scoreBits: 0, anchors: [3, 3, 3], warnings: [] },
  { file: 'tao5_yolo_v3_retrain_tfrecord.txt', layout: 'tao', network: 'yolov3', arch: 'resnet', nlayers: 18, c: 3, h: 384, w: 1248, depth: 8, mean: BGR, classes: ['forklift', 'pallet', 'person'], nms: { confidenceThreshold: 0.02, iouThreshold: 0.45, topK: 100 }, scoreBits: 8, anchors: [3, 3, 3], warnings: [] },
  { file: 'tao5_yolo_v3_train_tfrecord_qat.txt', layout: 'tao', network: 'yolov3', arch: 'darknet', nlayers: 19, c: 3, h: 608, w: 608, depth: 8, mean: BGR, classes: ['barcode', 'parcel'], nms: NMS_DEFAULT, scoreBits: 0, anchors: [3, 3, 3], warnings: [] },
  { file: 'tao5_yolo_v4_train_tfrecord.txt', layout: 'tao', network: 'yolov4', arch: 'resnet', nlayers: 10, c: 3, h: 736, w: 1280, depth: 8, mean: BGR, classes: ['bus', 'car', 'pedestrian', 'two_wheeler'], nms: { confidenceThreshold: 0.001, iouThreshold: 0.5, topK: 300 }, scoreBits: 0, anchors: [3, 3, 3], warnings: [] },
  { file: 'tao5_yolo_v4_retrain_kitti_seq.txt', layout: 'tao', network: 'yolov4', arch: 'cspdarknet', nlayers: 53, c: 3, h: 480, w: 640, depth: 8, mean: BGR, classes: ['container', 'crane', 'vehicle'], nms: { confidenceThreshold: 0.01, iouThreshold: 0.6, topK: 200 }, scoreBits: 0, anchors: [3, 3, 3], warnings: [] },
  { file: 'tao5_yolo_v4_16bit_grayscale.txt', layout: 'tao', network: 'yolov4', arch: 'resnet', nlayers: 18, c: 1, h: 512, w: 640, depth: 16, mean: [28160], classes: ['animal', 'person'], nms: NMS_DEFAULT, scoreBits: 0, anchors: [3, 3, 3], warnings: [] },
  { file: 'tao5_yolo_v4_tiny_train_kitti_seq.txt', layout: 'tao', network: 'yolov4-tiny', arch: 'cspdarknet_tiny', nlayers: null, c: 3, h: 416, w: 416, depth: 8, mean: BGR, classes: ['head', 'helmet', 'vest'], nms: NMS_DEFAULT, scoreBits: 0, anchors: [3, 3, 0], warnings: [] },
  { file: 'tao5_yolo_v4_tiny_retrain_qat.txt', layout: 'tao', network: 'yolov4-tiny', arch: 'cspdarknet_tiny', nlayers: null, c: 3, h: 384, w: 1248, depth: 8, mean: BGR, classes: ['car', 'cyclist', 'tram'], nms: NMS_DEFAULT, scoreBits: 0, anchors: [3, 3, 0], warnings: [] },
  { file: 'tf1_yolo_v4_tiny_mish.txt', layout: 'tao', network: 'yolov4-tiny', arch: 'cspdarknet_tiny', nlayers: null, c: 3, h: 384, w: 1248, depth: 8, mean: BGR, classes: ['car', 'truck'], nms: { confidenceThreshold: 0.005, iouThreshold: 0.5, topK: 250 }, scoreBits: 0, anchors: [3, 3, 0], warnings: [] },
  { file: 'tf1_yolov4_tiny_multisource.txt', layout: 'tao', network: 'yolov4-tiny', arch: 'cspdarknet_tiny', nlayers: null, c: 3, h: 544, w: 960, depth: 8, mean: BGR, classes: ['car', 'person', 'road_sign', 'two_wheeler'], nms: { confidenceThreshold: 0.01, iouThreshold: 0.6, topK: 200 }, scoreBits: 0, anchors: [3, 3, 0], warnings: [] },
  { file: 'tf1_yolo_v3_coco_tfrecords.txt', layout: 'tao', network: 'yolov3', arch: 'resnet', nlayers: 50, c: 3, h: 512, w: 512, depth: 8, mean: BGR, classes: ['bench', 'fire hydrant', 'parking meter', 'person', 'stop sign', 'traffic light'], nms: NMS_DEFAULT, scoreBits: 0, anchors: [3, 3, 3], warnings: [] },
  { file: 'tf1_yolo_v4_tiny_visualizer.txt', layout: 'tao', network: 'yolov4-tiny', arch: 'cspdarknet_tiny_3l', nlayers: null, c: 3, h: 448, w: 800, depth: 8, mean: BGR, classes: ['cyclist', 'pedestrian'], nms: NMS_DEFAULT, scoreBits: 0, anchors: [3, 3, 3], warnings: [] },
  {
    file: 'tlt3_yolo_v3_darknet_coco.txt',
    layout: 'tao',
    network: 'yolov3',
    arch: 'darknet',
    nlayers: 53,
    c: 3,
    h: 416,
    w: 416,
    depth: 8,
    mean: BGR,
    classes: ['bear', 'elephant', 'giraffe', 'kite', 'zebra'],
    nms: NMS_DEFAULT,
    scoreBits: 0,
    anchors: [3, 3, 3],
    warnings: [/^tlt3_yolo_v3_darknet_coco\.txt:7\d:\d+: augmentation_config\.output_channel is absent: taken as 3/],
  },
  { file: 'tao3_yolo_v4_image_mean.txt', layout: 'tao', network: 'yolov4', arch: 'resnet', nlayers: 18, c: 3, h: 416, w: 416, depth: 8, mean: [102.25, 117, 124.5], classes: ['hatchback', 'pickup', 'sedan', 'suv'], nms: NMS_DEFAULT, scoreBits: 0, anchors: [3, 3, 3], warnings: [] },
  { file: 'tao3_yolo_v4_tiny_portrait.txt', layout: 'tao', network: 'yolov4-tiny', arch: 'cspdarknet_tiny', nlayers: null, c: 3, h: 1280, w: 960, depth: 8, mean: BGR, classes: ['scooter', 'stroller'], nms: NMS_DEFAULT, scoreBits: 0, anchors: [3, 3, 0], warnings: [] },
];

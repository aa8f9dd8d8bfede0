import { kittiLine, type SetImage } from './kitti-set.js';

/**
 * A labelled set for the colour-box model (colour-box-model.ts) whose AP table is worked out
 * by hand: five 160×96 PNGs (blue → car, green → cyclist, red → pedestrian, score = value / 255).
 */
const blue = (v: number) => [0, 0, v] as const;
const green = (v: number) => [0, v, 0] as const;
const red = (v: number) => [v, 0, 0] as const;

export const COLOUR_SET: SetImage[] = [
  // car .902 exactly on its label → TP
  { id: '000000', rects: [{ rgb: blue(230), x1: 20, y1: 20, x2: 60, y2: 50 }], labels: [kittiLine('Car', [20, 20, 60, 50])] },
  // car .8 but the label (van → car) is 30 px to the right: IoU 300/2100 → FP and a miss
  { id: '000001', rects: [{ rgb: blue(204), x1: 30, y1: 10, x2: 70, y2: 40 }], labels: [kittiLine('Van', [60, 10, 100, 40])] },
  // cyclist .698 → TP; a DontCare region and an unmapped Tram are not evaluated
  {
    id: '000002',
    rects: [{ rgb: green(178), x1: 10, y1: 10, x2: 50, y2: 80 }],
    labels: [kittiLine('Cyclist', [10, 10, 50, 80]), 'DontCare -1 -1 -10 100.00 10.00 150.00 40.00 -1 -1 -1 -1000 -1000 -1000 -10', kittiLine('Tram', [60, 50, 90, 90])],
  },
  // pedestrian .6 on an occluded (difficult) pedestrian → ignored; person_sitting nobody found → miss
  { id: '000003', rects: [{ rgb: red(153), x1: 100, y1: 20, x2: 140, y2: 70 }], labels: [kittiLine('Pedestrian', [100, 20, 140, 70], { occluded: 1 }), kittiLine('Person_sitting', [10, 10, 40, 60])] },
  // car 1.0 → TP; an unlabelled red box .549 → pedestrian FP
  {
    id: '000004',
    rects: [
      { rgb: blue(255), x1: 80, y1: 30, x2: 120, y2: 60 },
      { rgb: red(140), x1: 10, y1: 10, x2: 40, y2: 40 },
    ],
    labels: [kittiLine('car', [80, 30, 120, 60])],
  },
];
// car: TP 1.0, TP .902, FP .8 of 3 GT → p [1, 1, 2/3], r [1/3, 2/3, 2/3]:
//   SAMPLE: samples 0 … 0.6000000000000001 (7) reach recall 2/3 → 7/11; INTEGRATE: 2/3.
// cyclist: 1 GT, TP → 1 and 1. pedestrian: 1 countable GT (the occluded one is difficult), one FP → 0.
export const COLOUR_SET_AP = {
  sample: { car: 7 / 11, cyclist: 1, pedestrian: 0 },
  integrate: { car: 2 / 3, cyclist: 1, pedestrian: 0 },
};


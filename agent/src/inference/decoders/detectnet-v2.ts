import { jaccardOverlap } from '../nms.js';
import { nmsCandidates } from './nms-candidates.js';
import { BoxList, need, type DecodedBoxes, type Decoder } from './types.js';

/**
 * TAO DetectNet_v2 (PeopleNet, TrafficCamNet, DashCamNet, LPDNet): coverage
 * `output_cov/Sigmoid` [B,C,gh,gw] and boxes `output_bbox/BiasAdd` [B,4C,gh,gw] on a stride-16
 * grid. As DeepStream's DetectNet_v2 parser and TAO's postprocessor: cell (i, j) has the centre
 * cx = (stride·i + offset) / bbox_norm, cy = (stride·j + offset) / bbox_norm, and the box is
 * x1 = (cx − o0)·norm, y1 = (cy − o1)·norm, x2 = (o2 + cx)·norm, y2 = (o3 + cy)·norm in input
 * pixels (bbox_norm 35, offset 0.5). Cells with coverage > threshold (DeepStream
 * pre-cluster-threshold) are clustered as DeepStream's cluster-mode: NMS, DBSCAN or none.
 */
export const decodeDetectNetV2: Decoder = (outputs, ctx) => {
  const cov = need(outputs, 0, 'detectnet-v2', 'output_cov');
  const bbox = need(outputs, 1, 'detectnet-v2', 'output_bbox');
  const C = cov.dims[1] ?? 0;
  const gh = cov.dims[2] ?? 0;
  const gw = cov.dims[3] ?? 0;
  const stride = ctx.params.gridStride ?? 16;
  const norm = ctx.params.bboxNorm ?? 35;
  const offset = ctx.params.gridOffset ?? 0.5;
  const plane = gh * gw;
  const cand = new BoxList();
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < gh; j++) {
      for (let i = 0; i < gw; i++) {
        const score = cov.data[c * plane + j * gw + i]!;
        if (!(score > ctx.scoreThreshold)) continue;
        const cx = (stride * i + offset) / norm;
        const cy = (stride * j + offset) / norm;
        const o = (k: number): number => bbox.data[(c * 4 + k) * plane + j * gw + i]!;
        cand.push((cx - o(0)) * norm, (cy - o(1)) * norm, (o(2) + cx) * norm, (o(3) + cy) * norm, score, c);
      }
    }
  }
  const all = cand.done();
  switch (ctx.params.cluster ?? 'nms') {
    case 'none':
      return all;
    case 'dbscan':
      return dbscan(all, ctx.params.dbscanEps ?? 0.2, ctx.params.dbscanMinBoxes ?? 3, ctx.maxDetections);
    default:
      return nmsCandidates(all, ctx.iouThreshold, ctx.maxDetections, false, ctx.allowed);
  }
};

/**
 * DBSCAN per class with distance 1 − IoU: boxes closer than eps are neighbours, a core box has at
 * least minBoxes − 1 neighbours, clusters grow through core boxes; each cluster becomes one box,
 * the coverage-weighted mean of its members, scored with its best member. Noise is dropped.
 */
export function dbscan(c: DecodedBoxes, eps: number, minBoxes: number, maxOut: number): DecodedBoxes {
  const n = c.count;
  const f = Float32Array.from(c.boxes);
  const label = new Int32Array(n).fill(-2); // −2 unvisited, −1 noise, ≥ 0 cluster
  const near = (i: number): number[] => {
    const out: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i && c.classes[j] === c.classes[i] && 1 - jaccardOverlap(f, i, j, true, false) < eps) out.push(j);
    return out;
  };
  let clusters = 0;
  for (let i = 0; i < n; i++) {
    if (label[i] !== -2) continue;
    const nb = near(i);
    if (nb.length + 1 < minBoxes) {
      label[i] = -1;
      continue;
    }
    const id = clusters++;
    label[i] = id;
    const queue = [...nb];
    while (queue.length > 0) {
      const j = queue.shift()!;
      if (label[j] === -1) label[j] = id;
      if (label[j] !== -2) continue;
      label[j] = id;
      const nj = near(j);
      if (nj.length + 1 >= minBoxes) queue.push(...nj);
    }
  }
  const out = new BoxList(Math.max(1, clusters));
  for (let k = 0; k < clusters; k++) {
    let w = 0;
    let best = 0;
    let cls = 0;
    const acc = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      if (label[i] !== k) continue;
      const s = c.scores[i]!;
      w += s;
      for (let q = 0; q < 4; q++) acc[q]! += c.boxes[i * 4 + q]! * s;
      if (s > best) best = s;
      cls = c.classes[i]!;
    }
    out.push(acc[0]! / w, acc[1]! / w, acc[2]! / w, acc[3]! / w, best, cls);
  }
  const r = out.done();
  // Best first, at most maxOut.
  const order = Array.from({ length: r.count }, (_, i) => i).sort((p, q) => r.scores[q]! - r.scores[p]! || p - q).slice(0, maxOut);
  const sorted = new BoxList(Math.max(1, order.length));
  for (const i of order) sorted.push(r.boxes[i * 4]!, r.boxes[i * 4 + 1]!, r.boxes[i * 4 + 2]!, r.boxes[i * 4 + 3]!, r.scores[i]!, r.classes[i]!);
  return sorted.done();
}

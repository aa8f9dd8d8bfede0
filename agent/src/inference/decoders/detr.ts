import { BoxList, need, sigmoid, type Decoder } from './types.js';

/**
 * DETR family (TAO DINO / Deformable DETR, RT-DETR): pred_logits [B,Q,C], pred_boxes [B,Q,4]
 * as cx cy w h in [0,1]. No NMS. DINO/Deformable DETR/RT-DETR score with a sigmoid per
 * (query, class) and keep the top-k pairs (PostProcess of deformable DETR: topk over Q·C);
 * the original DETR uses a softmax with the last class as "no object" and one label per query.
 */
export const decodeDetr: Decoder = (outputs, ctx) => {
  const logits = need(outputs, 0, 'detr', 'pred_logits');
  const boxes = need(outputs, 1, 'detr', 'pred_boxes');
  const Q = logits.dims[1] ?? 0;
  const C = logits.dims[2] ?? 0;
  const L = logits.data;
  const B = boxes.data;
  const pairs: { q: number; c: number; s: number }[] = [];
  if ((ctx.params.scoreActivation ?? 'sigmoid') === 'softmax') {
    for (let q = 0; q < Q; q++) {
      let max = -Infinity;
      for (let c = 0; c < C; c++) max = Math.max(max, L[q * C + c]!);
      let sum = 0;
      for (let c = 0; c < C; c++) sum += Math.exp(L[q * C + c]! - max);
      let best = -1;
      let bs = 0;
      for (let c = 0; c < C - 1; c++) {
        const p = Math.exp(L[q * C + c]! - max) / sum;
        if (p > bs) {
          bs = p;
          best = c;
        }
      }
      if (best >= 0 && bs > ctx.scoreThreshold) pairs.push({ q, c: best, s: bs });
    }
  } else {
    for (let i = 0; i < Q * C; i++) {
      const s = sigmoid(L[i]!);
      if (s > ctx.scoreThreshold) pairs.push({ q: Math.floor(i / C), c: i % C, s });
    }
  }
  pairs.sort((a, b) => b.s - a.s || a.q * C + a.c - (b.q * C + b.c));
  const out = new BoxList();
  for (const p of pairs.slice(0, ctx.maxDetections)) {
    const o = p.q * 4;
    const cx = B[o]! * ctx.netWidth;
    const cy = B[o + 1]! * ctx.netHeight;
    const w = B[o + 2]! * ctx.netWidth;
    const h = B[o + 3]! * ctx.netHeight;
    out.push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, p.s, p.c);
  }
  return out.done();
};

// Writes samples/demo.jpg: a synthetic 1280×720 street-like picture (sky, road, boxes, noise)
// for the README's curl example. Deterministic; run again to regenerate.
import { Buffer } from 'node:buffer';
import sharp from 'sharp';
import { fileURLToPath } from 'node:url';

const W = 1280;
const H = 720;
const raw = Buffer.alloc(W * H * 3);
let s = 7;
for (let y = 0; y < H; y++) {
  for (let x = 0; x < W; x++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    const n = (s >>> 27) - 16;
    const i = (y * W + x) * 3;
    const sky = y < H * 0.45;
    raw[i] = Math.max(0, Math.min(255, (sky ? 120 + y / 8 : 70) + n));
    raw[i + 1] = Math.max(0, Math.min(255, (sky ? 160 + y / 10 : 72) + n));
    raw[i + 2] = Math.max(0, Math.min(255, (sky ? 220 : 75) + n));
  }
}
const boxes = [
  [180, 380, 260, 150, '#b02020'],
  [560, 400, 200, 120, '#e0e0e0'],
  [930, 360, 90, 220, '#204080'],
  [1080, 390, 70, 190, '#308030'],
];
const svg = `<svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">${boxes
  .map(([x, y, w, h, c]) => `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="12" fill="${c}"/><rect x="${Number(x) + 10}" y="${Number(y) + 10}" width="${Number(w) / 3}" height="${Number(h) / 4}" fill="#101820"/>`)
  .join('')}<rect x="0" y="${H * 0.62}" width="${W}" height="8" fill="#f0f0a0"/></svg>`;
await sharp(raw, { raw: { width: W, height: H, channels: 3 } })
  .composite([{ input: Buffer.from(svg) }])
  .jpeg({ quality: 85 })
  .toFile(fileURLToPath(new URL('../samples/demo.jpg', import.meta.url)));
console.log('wrote samples/demo.jpg');

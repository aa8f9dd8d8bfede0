import { ApiError, postImage, token } from './api.js';
import { $, h } from './dom.js';
import { classColor, curlFor, imageType, keep, num, type Detection } from './format.js';

/**
 * "Try it": one upload asks for every detection down to FLOOR; the threshold slider then filters
 * and redraws in the page, without sending the image again.
 */
export const FLOOR = 0.05;

interface DetectAnswer {
  readonly model: { readonly name: string; readonly version: string };
  readonly image: { readonly width: number; readonly height: number };
  readonly detections: readonly Detection[];
  readonly timings: Readonly<Record<string, number>>;
}

export class TryIt {
  private bitmap: ImageBitmap | undefined;
  private answer: DetectAnswer | undefined;
  private file: { name: string; type: string } | undefined;
  private uploads = 0;
  private readonly canvas = $('tryit-canvas') as HTMLCanvasElement;
  private readonly slider = $('threshold') as HTMLInputElement;
  private tokenNeeded = false;

  constructor() {
    const input = $('tryit-file') as HTMLInputElement;
    input.addEventListener('change', () => {
      const f = input.files?.[0];
      if (f) void this.run(f);
    });
    const drop = $('tryit-drop');
    drop.addEventListener('dragover', (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      const f = e.dataTransfer?.files[0];
      if (f) void this.run(f);
    });
    this.slider.min = String(FLOOR);
    this.slider.addEventListener('input', () => this.render());
    this.render();
  }

  /** The serving model's default threshold, and whether curl needs the token. */
  configure(o: { threshold: number | null; tokenNeeded: boolean }): void {
    this.tokenNeeded = o.tokenNeeded;
    if (o.threshold !== null && !this.answer) this.slider.value = String(Math.max(FLOOR, o.threshold));
    this.render();
  }

  private status(text: string, error = false): void {
    const s = $('tryit-status');
    s.textContent = text;
    s.classList.toggle('error', error);
  }

  private async run(f: File): Promise<void> {
    const type = imageType(f.name, f.type);
    this.file = { name: f.name, type };
    this.status(`detecting on ${f.name} …`);
    try {
      const [answer, bitmap] = await Promise.all([
        postImage<DetectAnswer>(`/v1/detect?threshold=${FLOOR}`, f, type),
        createImageBitmap(f).catch(() => undefined),
      ]);
      this.uploads++;
      this.answer = answer;
      this.bitmap?.close();
      this.bitmap = bitmap;
      this.status(`${answer.model.name}@${answer.model.version} · ${answer.image.width}×${answer.image.height} · ${num(answer.timings.totalMs, 1, ' ms')}`);
    } catch (err) {
      const e = err instanceof ApiError ? `${e2s(err)}` : String(err);
      this.status(e, true);
    }
    this.render();
  }

  private render(): void {
    const threshold = Number(this.slider.value);
    $('threshold-value').textContent = threshold.toFixed(2);
    $('curl').textContent = curlFor({
      origin: location.origin,
      file: this.file?.name ?? 'IMAGE.jpg',
      contentType: this.file?.type ?? 'image/jpeg',
      threshold,
      token: this.tokenNeeded || token() !== '',
    });
    const c = this.canvas;
    c.dataset.uploads = String(this.uploads);
    const a = this.answer;
    if (!a) {
      c.dataset.boxes = '0';
      return;
    }
    const shown = keep(a.detections, threshold);
    c.width = a.image.width;
    c.height = a.image.height;
    c.dataset.image = `${a.image.width}x${a.image.height}`;
    c.dataset.boxes = String(shown.length);
    const g = c.getContext('2d');
    if (g) {
      g.clearRect(0, 0, c.width, c.height);
      if (this.bitmap) g.drawImage(this.bitmap, 0, 0, c.width, c.height);
      const lw = Math.max(2, Math.round(c.width / 400));
      g.font = `${Math.max(12, lw * 7)}px system-ui, sans-serif`;
      for (const d of shown) {
        const color = classColor(d.classId);
        const { x1, y1, x2, y2 } = d.box;
        g.strokeStyle = color;
        g.lineWidth = lw;
        g.strokeRect(x1, y1, Math.max(1, x2 - x1), Math.max(1, y2 - y1));
        const text = `${d.label} ${d.score.toFixed(2)}`;
        const tw = g.measureText(text).width + lw * 2;
        const th = lw * 7 + lw * 2;
        const ty = y1 - th >= 0 ? y1 - th : y1;
        g.fillStyle = color;
        g.fillRect(x1, ty, tw, th);
        g.fillStyle = '#111';
        g.fillText(text, x1 + lw, ty + th - lw * 1.5);
      }
    }
    $('detections-count').textContent = `${shown.length} of ${a.detections.length} detections at score ≥ ${threshold.toFixed(2)} (fetched ≥ ${FLOOR})`;
    $('detections').replaceChildren(
      ...shown.map((d) =>
        h(
          'tr',
          { dataset: { label: d.label, classId: String(d.classId), score: String(d.score), x1: String(d.box.x1), y1: String(d.box.y1), x2: String(d.box.x2), y2: String(d.box.y2) } },
          h('td', {}, h('i', { class: 'swatch', dataset: { c: String(d.classId) } }), d.label),
          h('td', { class: 'num' }, d.score.toFixed(3)),
          h('td', { class: 'num' }, `${Math.round(d.box.x1)}, ${Math.round(d.box.y1)} – ${Math.round(d.box.x2)}, ${Math.round(d.box.y2)}`),
        ),
      ),
    );
    for (const el of $('detections').querySelectorAll<HTMLElement>('i.swatch')) el.style.background = classColor(Number(el.dataset.c));
  }
}

export function e2s(e: ApiError): string {
  return `${e.code}: ${e.message}${e.hint ? ` ${e.hint}` : ''}`;
}

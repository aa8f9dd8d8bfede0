import { $, h } from './dom.js';
import { ago, bytes, num } from './format.js';

/** Renders the model panel, the serving tiles and the deployment history from the server's data. */
export interface ModelRow {
  readonly name: string;
  readonly version: string;
  readonly builtIn: boolean;
  readonly active: boolean;
  readonly previous: boolean;
  readonly network?: string;
  readonly format?: string;
  readonly sizeBytes?: number;
  readonly addedAt?: string;
}
export interface ModelDetails {
  readonly name: string;
  readonly version: string;
  readonly family: string;
  readonly format: string;
  readonly input: { readonly width: number; readonly height: number; readonly channels: number; readonly colorOrder: string; readonly resize: string };
  readonly classes: readonly string[];
  readonly backend: string;
  readonly precision: string;
  readonly maxBatch: number;
  readonly threshold: number;
}
export interface HistoryRow {
  readonly at: string;
  readonly kind: 'deployment' | 'switch';
  readonly deploymentId?: string;
  readonly source?: string;
  readonly state?: string;
  readonly model: { readonly name: string; readonly version: string } | null;
  readonly previous: { readonly name: string; readonly version: string } | null;
  readonly error?: { readonly code: string; readonly message: string };
}
export interface ServingPoint {
  readonly t: number;
  readonly requestsTotal: number;
  readonly errorsTotal: number;
  readonly ratePerSec: number | null;
  readonly errorsPerSec: number | null;
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly batchAvg: number | null;
  readonly queueDepth: number;
}

const ref = (m: { name: string; version: string } | null): string => (m ? `${m.name}@${m.version}` : '–');

export function renderModel(m: ModelDetails | null, state: string): void {
  const box = $('model-details');
  if (!m) {
    box.replaceChildren(h('p', { class: 'muted' }, state === 'activating' ? 'A model is loading and warming up …' : 'No model is serving.'));
    return;
  }
  const row = (k: string, v: string | Node): HTMLElement => h('div', {}, h('dt', {}, k), h('dd', {}, v));
  box.replaceChildren(
    h(
      'dl',
      { class: 'facts' },
      row('model', h('strong', { id: 'model-ref' }, `${m.name}@${m.version}`)),
      row('family', m.family),
      row('input', `${m.input.width}×${m.input.height}×${m.input.channels} ${m.input.colorOrder.toUpperCase()}, ${m.input.resize}`),
      row('backend', m.backend === 'tensorrt' ? 'TensorRT engine' : 'ONNX Runtime (CPU)'),
      row('precision', m.precision.toUpperCase()),
      row('max batch', String(m.maxBatch)),
      row('threshold', m.threshold.toFixed(2)),
      row('classes', h('span', { class: 'chips' }, ...m.classes.map((c) => h('span', { class: 'chip' }, c)))),
    ),
  );
}

export function renderModels(rows: readonly ModelRow[], onActivate: (r: ModelRow) => void): void {
  $('models').replaceChildren(
    ...rows.map((r) => {
      const btn = h('button', { type: 'button', class: 'admin', dataset: { action: 'activate', ref: `${r.name}@${r.version}` } }, r.active ? 'Reload' : 'Activate');
      btn.addEventListener('click', () => onActivate(r));
      return h(
        'tr',
        { class: r.active ? 'active' : '', dataset: { ref: `${r.name}@${r.version}`, active: String(r.active) } },
        h('td', {}, r.active ? h('span', { class: 'badge ok', title: 'serving now' }, '● serving') : r.previous ? h('span', { class: 'badge', title: 'what a rollback returns to' }, '↶ previous') : ''),
        h('td', {}, `${r.name}@${r.version}`),
        h('td', {}, r.builtIn ? 'built-in demo' : `${r.network ?? ''} ${r.format ?? ''}`),
        h('td', { class: 'num' }, r.sizeBytes === undefined ? '–' : bytes(r.sizeBytes)),
        h('td', {}, btn),
      );
    }),
  );
}

export function renderHistory(rows: readonly HistoryRow[], now: number): void {
  const body = $('history');
  if (rows.length === 0) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No deployment or model switch recorded on this board yet.')));
    return;
  }
  body.replaceChildren(
    ...rows.map((r) =>
      h(
        'tr',
        { dataset: { kind: r.kind, state: r.state ?? 'switch' } },
        h('td', { title: r.at }, ago(Date.parse(r.at), now)),
        h('td', {}, r.kind === 'deployment' ? h('span', { class: `badge ${r.state === 'active' ? 'ok' : 'bad'}` }, r.state ?? '') : h('span', { class: 'badge' }, 'switch')),
        h('td', {}, `${ref(r.model)}`, h('span', { class: 'muted' }, ` (was ${ref(r.previous)})`)),
        h('td', {}, r.kind === 'deployment' ? `${r.source ?? ''} ${r.deploymentId ?? ''}` : 'start, CLI or console', r.error ? h('div', { class: 'error' }, `${r.error.code}: ${r.error.message}`) : null),
      ),
    ),
  );
}

export function renderServing(p: ServingPoint): void {
  const tile = (id: string, v: string): void => {
    $(id).textContent = v;
  };
  tile('s-rate', num(p.ratePerSec, 2, ' /s'));
  tile('s-p50', num(p.p50Ms, 1, ' ms'));
  tile('s-p99', num(p.p99Ms, 1, ' ms'));
  tile('s-errors', num(p.errorsPerSec, 2, ' /s'));
  tile('s-batch', num(p.batchAvg, 2));
  tile('s-total', String(p.requestsTotal));
  tile('s-errtotal', String(p.errorsTotal));
  tile('s-queue', String(p.queueDepth));
  const codes = Object.entries(p.errorsByCode);
  $('s-codes').textContent = codes.length ? codes.map(([c, n]) => `${c} ×${n}`).join(', ') : '';
}

import { ApiError, authHeaders, getJson, postJson, setToken, token } from './api.js';
import { LineChart } from './chart.js';
import { $ } from './dom.js';
import { bytes } from './format.js';
import { renderHistory, renderModel, renderModels, renderServing, type HistoryRow, type ModelDetails, type ModelRow, type ServingPoint } from './panels.js';
import { SseParser } from './sse.js';
import { e2s, TryIt } from './tryit.js';

/** The board console: state from /v1/console/state, live data from the /v1/console/events stream. */
interface State {
  readonly agent: { readonly version: string; readonly deviceId: string | null; readonly board: { readonly model: string | null; readonly isJetson: boolean; readonly jetpack: string | null; readonly tensorrt: string | null } | null };
  readonly status: { readonly state: string; readonly active: { name: string; version: string } | null; readonly previous: { name: string; version: string } | null };
  readonly model: ModelDetails | null;
  readonly models: readonly ModelRow[];
  readonly history: readonly HistoryRow[];
  readonly auth: { readonly tokenConfigured: boolean };
  readonly historySec: number;
  readonly historyRev: number;
}
interface BoardPoint {
  readonly t: number;
  readonly status: string;
  readonly reasons: readonly { code: string; severity: string; message: string }[];
  readonly cpuPct: readonly number[];
  readonly gpuPct: number | null;
  readonly ram: { usedBytes: number; totalBytes: number };
  readonly swap: { usedBytes: number; totalBytes: number };
  readonly tempsC: Readonly<Record<string, number>>;
  readonly railsMW: Readonly<Record<string, number>>;
}
interface Tick {
  readonly board: BoardPoint;
  readonly serving: ServingPoint;
  readonly model: { readonly active: { name: string; version: string } | null; readonly state: string };
  readonly historyRev: number;
}

const span = 600_000;
const charts = {
  cpu: new LineChart({ title: 'CPU per core', unit: ' %', min: 0, max: 100 }, span),
  gpu: new LineChart({ title: 'GPU', unit: ' %', min: 0, max: 100 }, span),
  mem: new LineChart({ title: 'RAM and swap (used)', unit: ' %', min: 0, max: 100 }, span),
  temp: new LineChart({ title: 'Temperatures', unit: ' °C', digits: 1 }, span),
  power: new LineChart({ title: 'Power rails', unit: ' W', digits: 2 }, span),
  rate: new LineChart({ title: 'Requests per second', unit: '/s', digits: 2 }, span),
  latency: new LineChart({ title: 'Latency', unit: ' ms', digits: 1 }, span),
};
$('board-charts').append(charts.cpu.root, charts.gpu.root, charts.mem.root, charts.temp.root, charts.power.root);
$('serving-charts').append(charts.rate.root, charts.latency.root);

const tryIt = new TryIt();
let state: State | undefined;
let lastTick = 0;

function show(id: string, on: boolean): void {
  $(id).hidden = !on;
}

function adminMessage(text: string, error: boolean): void {
  const el = $('admin-status');
  el.textContent = text;
  el.classList.toggle('error', error);
  el.dataset.state = error ? 'error' : 'ok';
}

function pct(used: number, total: number): number | null {
  return total > 0 ? (100 * used) / total : null;
}

function addBoard(p: BoardPoint): void {
  charts.cpu.add(p.t, Object.fromEntries(p.cpuPct.map((v, i) => [`cpu${i}`, v])));
  charts.gpu.add(p.t, { GPU: p.gpuPct });
  charts.mem.add(p.t, { RAM: pct(p.ram.usedBytes, p.ram.totalBytes), swap: pct(p.swap.usedBytes, p.swap.totalBytes) });
  charts.temp.add(p.t, p.tempsC);
  charts.power.add(p.t, Object.fromEntries(Object.entries(p.railsMW).map(([k, v]) => [k, v / 1000])));
  $('ram-text').textContent = `RAM ${bytes(p.ram.usedBytes)} / ${bytes(p.ram.totalBytes)} · swap ${bytes(p.swap.usedBytes)} / ${bytes(p.swap.totalBytes)}`;
  const badge = $('health');
  badge.textContent = p.status;
  badge.className = `badge ${p.status === 'ok' ? 'ok' : 'bad'}`;
  badge.title = p.reasons.map((r) => `${r.code}: ${r.message}`).join('\n') || 'no health problem';
  $('reasons').textContent = p.reasons.map((r) => `${r.code} (${r.severity}): ${r.message}`).join(' · ');
  lastTick = p.t;
  const live = $('live');
  live.dataset.points = String(Number(live.dataset.points ?? '0') + 1);
  live.dataset.last = String(p.t);
}

function addServing(p: ServingPoint): void {
  charts.rate.add(p.t, { requests: p.ratePerSec, errors: p.errorsPerSec });
  charts.latency.add(p.t, { p50: p.p50Ms, p99: p.p99Ms });
  renderServing(p);
}

let frame = 0;
function redraw(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    const now = Math.max(Date.now(), lastTick);
    for (const c of Object.values(charts)) c.draw(now);
  });
}

async function activate(r: ModelRow): Promise<void> {
  const what = `${r.name}@${r.version}`;
  if (!confirm(`Activate ${what} on this board? It is loaded beside the current model, warmed up and switched in; the current model stays serving if that fails.`)) return;
  adminMessage(`activating ${what} …`, false);
  try {
    const res = await postJson<{ active: { name: string; version: string }; previous: { name: string; version: string } | null; loadMs: number }>('/v1/admin/models/activate', { name: r.name, version: r.version });
    adminMessage(`serving ${res.active.name}@${res.active.version} (was ${res.previous ? `${res.previous.name}@${res.previous.version}` : 'none'}; loaded in ${res.loadMs} ms)`, false);
  } catch (err) {
    adminMessage(err instanceof ApiError ? e2s(err) : String(err), true);
  }
  await loadState();
}

async function rollback(): Promise<void> {
  const prev = state?.status.previous;
  if (!prev || !confirm(`Roll back to ${prev.name}@${prev.version}?`)) return;
  adminMessage('rolling back …', false);
  try {
    const res = await postJson<{ active: { name: string; version: string } }>('/v1/admin/models/rollback');
    adminMessage(`rolled back: serving ${res.active.name}@${res.active.version}`, false);
  } catch (err) {
    adminMessage(err instanceof ApiError ? e2s(err) : String(err), true);
  }
  await loadState();
}
$('rollback').addEventListener('click', () => void rollback());

function needToken(message: string): void {
  show('auth', true);
  $('auth-message').textContent = message;
  ($('token-input') as HTMLInputElement).focus();
}

let loading: Promise<void> | undefined;
function loadState(): Promise<void> {
  loading ??= fetchState().finally(() => (loading = undefined));
  return loading;
}

async function fetchState(): Promise<void> {
  try {
    state = await getJson<State>('/v1/console/state');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      needToken(token() ? 'The token was refused. Enter the board\'s inference.token.' : 'This board requires its token (inference.token) to show anything.');
      document.body.dataset.auth = 'needed';
      return;
    }
    $('conn').textContent = err instanceof ApiError ? e2s(err) : String(err);
    return;
  }
  document.body.dataset.auth = 'ok';
  const s = state;
  const b = s.agent.board;
  $('device').textContent = `${s.agent.deviceId ?? 'this board'} · ${b?.model ?? (b?.isJetson ? 'Jetson' : 'not a Jetson')}${b?.jetpack ? ` · JetPack ${b.jetpack}` : ''}${b?.tensorrt ? ` · TensorRT ${b.tensorrt}` : ''} · agent ${s.agent.version}`;
  renderModel(s.model, s.status.state);
  renderModels(s.models, (r) => void activate(r));
  renderHistory(s.history, Date.now());
  const rb = $('rollback') as HTMLButtonElement;
  rb.disabled = !s.status.previous;
  rb.textContent = s.status.previous ? `Roll back to ${s.status.previous.name}@${s.status.previous.version}` : 'Roll back (no previous model)';
  $('admin-note').textContent = token()
    ? 'Admin actions send the token you entered.'
    : s.auth.tokenConfigured
      ? 'Enter the token to activate or roll back.'
      : 'Read-only: activate and rollback from a browser need inference.token set on this board (or use `jetson-agent models activate` on the board).';
  tryIt.configure({ threshold: s.model?.threshold ?? null, tokenNeeded: s.auth.tokenConfigured });
  for (const c of Object.values(charts)) c.setSpan(s.historySec * 1000);
}

let streamAbort: AbortController | undefined;
async function stream(): Promise<void> {
  streamAbort?.abort();
  const ctl = new AbortController();
  streamAbort = ctl;
  let delay = 1000;
  while (!ctl.signal.aborted) {
    try {
      const res = await fetch('/v1/console/events', { headers: { accept: 'text/event-stream', ...authHeaders() }, signal: ctl.signal, cache: 'no-store' });
      if (res.status === 401) {
        $('conn').textContent = 'needs the token';
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      $('conn').textContent = 'live';
      $('conn').className = 'badge ok';
      delay = 1000;
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const ev of parser.push(value)) {
          if (ev.event === 'hello') {
            const hello = JSON.parse(ev.data) as { board: BoardPoint[]; serving: ServingPoint[] };
            for (const p of hello.board) addBoard(p);
            for (const p of hello.serving) addServing(p);
          } else if (ev.event === 'tick') {
            const t = JSON.parse(ev.data) as Tick;
            addBoard(t.board);
            addServing(t.serving);
            const a = t.model.active;
            const cur = state?.status.active;
            if (state && (a?.name !== cur?.name || a?.version !== cur?.version || t.model.state !== state.status.state || t.historyRev !== state.historyRev)) void loadState();
          }
          redraw();
        }
      }
    } catch (err) {
      if (ctl.signal.aborted) return;
      $('conn').textContent = `reconnecting (${String(err)})`;
    }
    $('conn').className = 'badge bad';
    if (!$('conn').textContent?.startsWith('reconnecting')) $('conn').textContent = 'reconnecting';
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(15_000, delay * 2);
  }
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  setToken(($('token-input') as HTMLInputElement).value.trim());
  ($('token-input') as HTMLInputElement).value = '';
  show('auth', false);
  void loadState().then(() => (document.body.dataset.auth === 'ok' ? stream() : undefined));
});
$('token-forget').addEventListener('click', () => {
  setToken('');
  show('auth', true);
  void loadState();
});
$('token-button').addEventListener('click', () => show('auth', $('auth').hidden === true));
window.addEventListener('resize', redraw);
setInterval(() => {
  if (state) renderHistory(state.history, Date.now());
  redraw();
}, 10_000);

void loadState().then(() => (document.body.dataset.auth === 'ok' ? stream() : undefined));

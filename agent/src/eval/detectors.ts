import path from 'node:path';
import { isErrorCode } from '../core/error-codes.js';
import { AgentError } from '../core/errors.js';
import { parseKittiLabels } from '../dataset/kitti-label.js';
import { isNotFound, readText } from '../platform/fs.js';
import type { ClassMapping } from './eval-spec.js';
import { toPredictions } from './ground-truth.js';
import type { Detector, DetectorAnswer } from './run.js';

/**
 * The detectors evaluateDataset runs: saved KITTI predictions, and the HTTP endpoint of a
 * serving board (`POST /v1/detect?priority=low`). The daemon's own is wired in compose/.
 */

/**
 * `--detections DIR`: `<id>.txt` per image, KITTI lines with the score as 16th field (what
 * `tao inference` writes, target class names first). A missing file skips the image.
 */
export function savedPredictions(dir: string, mapping: ClassMapping): Detector {
  return async (image) => {
    const file = path.join(dir, `${image.id}.txt`);
    let text: string;
    try {
      text = await readText(file);
    } catch (err) {
      if (isNotFound(err)) throw new AgentError('DATASET_IMAGE_CORRUPT', `no predictions file ${file} for ${image.image.file}`, { hint: 'Run the inference over every image of the set.' });
      throw err;
    }
    const parsed = parseKittiLabels(text, 'predictions');
    const p = parsed.problems[0];
    if (p) {
      throw new AgentError('DATASET_LABEL_MALFORMED', `${file}:${p.line}: ${p.message}.`, {
        hint: 'Prediction lines have 16 fields: the 15 of a KITTI label and the score (as `tao inference` writes them).',
      });
    }
    const { preds, unknown } = toPredictions(parsed.objects, mapping);
    return {
      detections: [
        ...preds.map((d) => ({ label: mapping.classes[d.classId]!, score: d.score, box: d.box })),
        ...unknown.map((o) => ({ label: o.type, score: o.score ?? 0, box: o.box })),
      ],
    };
  };
}

export interface HttpDetectorOptions {
  /** Base URL of the board's inference endpoint, e.g. http://board:8080. */
  readonly url: string;
  readonly token?: string;
  /** Only this model may answer (the endpoint's ?model=). */
  readonly model?: string;
  /** Detections with score ≥ this are returned (the evaluation keeps > it). */
  readonly threshold: number;
  /** Retries of OVERLOADED answers (the board is busy with live traffic), with backoff. */
  readonly retries?: number;
}

const CONTENT: Readonly<Record<string, string>> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg' };

/** Over HTTP, at low priority: live requests on the board go first. */
export function httpDetector(o: HttpDetectorOptions): Detector {
  const base = o.url.replace(/\/+$/, '');
  const q = new URLSearchParams({ threshold: String(o.threshold), maxDetections: '4096', priority: 'low', ...(o.model ? { model: o.model } : {}) });
  const endpoint = `${base}/v1/detect?${q.toString()}`;
  return async (image, read, signal) => {
    const body = await read();
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(endpoint, {
          method: 'POST',
          body,
          headers: { 'content-type': CONTENT[path.extname(image.image.file).toLowerCase()] ?? 'application/octet-stream', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw err;
        throw new AgentError('MODEL_NOT_READY', `The inference endpoint ${base} is not reachable.`, { cause: err, hint: 'Check --url and that the agent runs on the board.' });
      }
      const json = (await res.json().catch(() => ({}))) as DetectorAnswer & { error?: { code?: string; message?: string } };
      if (res.ok) return json;
      const code = json.error?.code ?? 'INTERNAL';
      if (code === 'OVERLOADED' && attempt < (o.retries ?? 20)) {
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
        continue;
      }
      throw new AgentError(isErrorCode(code) ? code : 'INTERNAL', `${image.image.file}: ${json.error?.message ?? `HTTP ${res.status}`}`);
    }
  };
}

import t from 'tap';
import { execFileSync } from 'node:child_process';
import { curlFor, imageType, keep, shellQuote, type Detection } from '../../../agent/console/format.js';

const det = (score: number): Detection => ({ label: 'car', classId: 0, score, box: { x1: 0, y1: 0, x2: 1, y2: 1 } });

t.test('the threshold filter keeps score ≥ threshold, like the server', async (t) => {
  const all = [det(0.05), det(0.3), det(0.2999), det(0.9)];
  t.same(keep(all, 0.3).map((d) => d.score), [0.3, 0.9]);
  t.equal(keep(all, 0.05).length, 4);
  t.equal(keep(all, 1).length, 0);
});

t.test('the curl line is one a shell runs as shown', async (t) => {
  const line = curlFor({ origin: 'http://127.0.0.1:8080', file: "my dog's.jpg", contentType: 'image/jpeg', threshold: 0.3, token: true });
  t.equal(line, `curl -s -X POST --data-binary @'my dog'\\''s.jpg' -H 'Content-Type: image/jpeg' -H "Authorization: Bearer $TOKEN" 'http://127.0.0.1:8080/v1/detect?threshold=0.30'`);
  // The quoting survives a real shell: echo the words back one per line.
  const words = execFileSync('sh', ['-c', `set -- ${line.replace(/^curl /, '')}; for w; do printf '%s\\n' "$w"; done`], { env: { TOKEN: 's3cret', PATH: process.env.PATH ?? '' } })
    .toString()
    .trim()
    .split('\n');
  t.same(words, ['-s', '-X', 'POST', "--data-binary", "@my dog's.jpg", '-H', 'Content-Type: image/jpeg', '-H', 'Authorization: Bearer s3cret', 'http://127.0.0.1:8080/v1/detect?threshold=0.30']);
  t.notMatch(curlFor({ origin: 'http://b', file: 'a.png', contentType: 'image/png', threshold: 0.5, token: false }), /Authorization/);
  t.equal(shellQuote('plain-name_1.jpg'), 'plain-name_1.jpg');
});

t.test('the upload Content-Type is one /v1/detect accepts', async (t) => {
  t.equal(imageType('x.bin', 'image/png'), 'image/png');
  t.equal(imageType('photo.JPG', ''), 'image/jpeg');
  t.equal(imageType('photo.webp', 'image/webp'), 'application/octet-stream');
});

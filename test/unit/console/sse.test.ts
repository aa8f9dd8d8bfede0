import t from 'tap';
import { SseParser } from '../../../agent/console/sse.js';

t.test('SSE parser: events split anywhere across chunks, comments skipped, multi-line data joined', async (t) => {
  const stream = ': keep-alive\n\nevent: hello\ndata: {"a":1}\n\nevent: tick\r\ndata: line1\r\ndata:line2\r\n\r\ndata: no event name\n\n';
  // Every split point gives the same events.
  for (let cut = 0; cut <= stream.length; cut++) {
    const p = new SseParser();
    const evs = [...p.push(stream.slice(0, cut)), ...p.push(stream.slice(cut))];
    t.same(
      evs,
      [
        { event: 'hello', data: '{"a":1}' },
        { event: 'tick', data: 'line1\nline2' },
        { event: 'message', data: 'no event name' },
      ],
      `cut at ${cut}`,
    );
  }
});

t.test('SSE parser: an event is not emitted before its blank line', async (t) => {
  const p = new SseParser();
  t.same(p.push('event: tick\ndata: x\n'), []);
  t.same(p.push('\n'), [{ event: 'tick', data: 'x' }]);
});

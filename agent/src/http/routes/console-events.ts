import type { FastifyPluginAsync } from 'fastify';
import type { ConsoleHub } from '../console/hub.js';

/** Bytes a slow reader may leave unread before its stream is dropped (the page reconnects). */
const MAX_BACKLOG = 1 << 20;
const KEEPALIVE_MS = 15_000;

export const CONSOLE_EVENTS_ROUTE = '/v1/console/events';

/**
 * The console's one push channel: Server-Sent Events
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html). `hello` carries the kept
 * history, then one `tick` per health snapshot (board point, serving point, model state). The
 * page reads it with fetch() rather than EventSource so that it can send the bearer token in a
 * header. Open streams are ended when the server closes, or `app.close()` would wait for them.
 */
export function consoleEventsRoutes(hub: ConsoleHub, info: { sampleSec: number; historySec: number }): FastifyPluginAsync {
  const open = new Set<() => void>();
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify plugins are async functions
  return async (app) => {
    app.addHook('preClose', (done) => {
      for (const end of [...open]) end();
      done();
    });
    app.get(CONSOLE_EVENTS_ROUTE, (req, reply) => {
      void reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      const write = (chunk: string): void => {
        if (res.writableLength > MAX_BACKLOG) end();
        else res.write(chunk);
      };
      const event = (name: string, data: unknown): void => write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
      event('hello', { ...info, ...hub.history() });
      const release = hub.join((t) => event('tick', t));
      const beat = setInterval(() => write(': keep-alive\n\n'), KEEPALIVE_MS);
      let ended = false;
      function end(): void {
        if (ended) return;
        ended = true;
        clearInterval(beat);
        release();
        open.delete(end);
        res.end();
      }
      open.add(end);
      res.on('close', end);
    });
  };
}

import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { AgentError } from '../core/errors.js';

/**
 * Errors Node's HTTP parser raises before a request reaches fastify (`clientError`,
 * https://nodejs.org/api/http.html#event-clienterror), answered with the agent's coded JSON
 * instead of fastify's generic `{"message":"Client Timeout"}`. The important one is the request
 * timeout: a client that does not send its headers and body within inference.requestTimeoutMs is
 * answered 408 HTTP_REQUEST_TIMEOUT and its connection closed (Node's server `requestTimeout` /
 * `headersTimeout`). The raw socket is written, as Node itself does in this case
 * (lib/_http_server.js socketOnError).
 */
export function clientErrorHandler(requestTimeoutMs: number): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    let status: number;
    let e: AgentError;
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      e = new AgentError('HTTP_REQUEST_TIMEOUT', `The request headers and body did not arrive within inference.requestTimeoutMs (${requestTimeoutMs} ms); the connection was closed.`, {
        hint: 'Send the whole request promptly (a slow link needs a higher inference.requestTimeoutMs).',
      });
    } else if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      e = new AgentError('BAD_REQUEST', 'The request headers are larger than the server accepts (16 KiB).', { hint: 'Send fewer or shorter headers.' });
    } else {
      status = 400;
      e = new AgentError('BAD_REQUEST', `Malformed HTTP request (${err.code ?? err.message}).`, { hint: 'Send a valid HTTP/1.1 request.' });
    }
    const body = JSON.stringify({ error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } });
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    // end() flushes the answer, unlike an immediate destroy(); a client that keeps its side open
    // (still trickling) is destroyed shortly after.
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    setTimeout(() => socket.destroy(), 1000).unref();
  };
}

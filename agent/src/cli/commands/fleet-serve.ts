import type { AddressInfo } from 'node:net';
import { AgentError, UsageError } from '../../core/errors.js';
import { createPackageServer } from '../../fleet/serve.js';
import { statMaybe } from '../../platform/fs.js';
import { onShutdownSignal } from '../../platform/signals.js';
import type { CommandSpec } from '../types.js';

const DEFAULT_PORT = 8070;

export const fleetServeCommand: CommandSpec = {
  path: ['serve'],
  summary: 'Serve package files over HTTP with Range support (for labs) until SIGINT/SIGTERM.',
  description:
    'A small static server: GET/HEAD, single byte ranges (206/416) for resumed downloads, ETag from size + mtime, If-Range, no directory listing, ' +
    'nothing outside --dir reachable. Production fleets should use any HTTP(S) or S3-style URL instead (see docs/rollouts.md).',
  options: {
    dir: { type: 'string', arg: 'DIR', description: 'Directory with the package files.' },
    port: { type: 'string', arg: 'N', description: `TCP port (default ${DEFAULT_PORT}; 0 = any free port).` },
    host: { type: 'string', arg: 'ADDR', description: 'Bind address (default 127.0.0.1; 0.0.0.0 to reach it from boards).' },
  },
  examples: ['jetson-fleet serve --dir ./packages', 'jetson-fleet serve --dir ./packages --host 0.0.0.0 --port 8070'],
  async run(ctx) {
    const dir = ctx.options.dir;
    if (typeof dir !== 'string' || dir === '') throw new UsageError('Missing --dir DIR.', 'Example: jetson-fleet serve --dir ./packages');
    const portText = typeof ctx.options.port === 'string' ? ctx.options.port : String(DEFAULT_PORT);
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw new UsageError(`Bad --port "${portText}": expected 0–65535.`);
    const host = typeof ctx.options.host === 'string' ? ctx.options.host : '127.0.0.1';
    const st = await statMaybe(dir);
    if (!st?.isDirectory()) throw new AgentError('FS_ERROR', `${dir} is not a directory.`, { hint: 'Pass --dir with the directory that holds the package files.' });

    const server = createPackageServer({
      dir,
      onRequest: (e) => ctx.out.info(`${new Date().toISOString()} ${e.method} ${e.path} ${e.status} ${e.bytes}`),
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new AgentError('FS_ERROR', `Cannot listen on ${host}:${portText} (${err.code ?? err.message}).`, { hint: 'Choose another --port or --host.', cause: err })),
      );
      server.listen(Number(portText), host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const url = `http://${shown}:${addr.port}/`;
    ctx.out.result({ url, dir, port: addr.port, host: addr.address });
    ctx.out.print(`serving ${dir} at ${url} (Ctrl-C to stop)`);

    await new Promise<void>((resolve) => {
      const unsubscribe = onShutdownSignal(() => {
        unsubscribe();
        resolve();
      });
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  },
};

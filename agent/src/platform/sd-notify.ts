import { spawn, type ChildProcess } from 'node:child_process';

/**
 * systemd notify protocol without native addons (docs/reference/systemd.md "sd_notify from Node"): Node has no unix
 * datagram sockets, so a long-lived python3 child forwards one datagram per stdin line to
 * $NOTIFY_SOCKET. The sender stays alive, so there is no "sender exited before PID 1 read
 * the message" race even on systemd 237. The unit needs NotifyAccess=all because the
 * datagrams come from the child's PID. Without NOTIFY_SOCKET every call is a no-op.
 */
const FORWARDER = `
import os, socket, sys
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for line in sys.stdin:
    msg = line.rstrip("\\n").replace("\\x1e", "\\n")
    try:
        s.sendto(msg.encode(), addr)
    except OSError as e:
        sys.stderr.write("sd_notify: %s\\n" % e)
`;

const RS = String.fromCharCode(0x1e);

export interface Notifier {
  notify(fields: Readonly<Record<string, string | number>>): void;
  ready(status?: string): void;
  status(text: string): void;
  watchdog(): void;
  stopping(): void;
  /** Start WATCHDOG=1 pings at half of $WATCHDOG_USEC; returns the interval in ms or 0. */
  startWatchdog(): number;
  close(): Promise<void>;
}

export interface NotifierOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly python?: string;
  readonly onError?: (message: string) => void;
}

export function createNotifier(options: NotifierOptions = {}): Notifier {
  const env = options.env ?? process.env;
  const socketPath = env.NOTIFY_SOCKET;
  let child: ChildProcess | undefined;
  let timer: NodeJS.Timeout | undefined;

  const ensureChild = (): ChildProcess | undefined => {
    if (!socketPath) return undefined;
    if (child && child.exitCode === null && !child.killed) return child;
    child = spawn(options.python ?? 'python3', ['-c', FORWARDER], {
      env: { PATH: env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: socketPath },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    child.on('error', (err) => options.onError?.(`sd_notify forwarder: ${err.message}`));
    child.stderr?.on('data', (d: Buffer) => options.onError?.(d.toString().trim()));
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  };

  const notify = (fields: Readonly<Record<string, string | number>>): void => {
    const c = ensureChild();
    if (!c?.stdin?.writable) return;
    // One datagram per line; fields inside a datagram are newline-separated, encoded as
    // the record separator on the pipe so a STATUS text cannot split the datagram.
    const payload = Object.entries(fields)
      .map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ').split(RS).join(' ')}`)
      .join(RS);
    c.stdin.write(payload + '\n');
  };

  return {
    notify,
    ready: (status) => notify(status ? { READY: 1, STATUS: status } : { READY: 1 }),
    status: (text) => notify({ STATUS: text }),
    watchdog: () => notify({ WATCHDOG: 1 }),
    stopping: () => notify({ STOPPING: 1 }),
    startWatchdog: () => {
      const usec = Number(env.WATCHDOG_USEC ?? '');
      const pid = env.WATCHDOG_PID;
      if (!socketPath || !Number.isFinite(usec) || usec <= 0) return 0;
      if (pid && Number(pid) !== process.pid) return 0;
      const ms = Math.max(1, Math.floor(usec / 1000 / 2));
      if (timer) clearInterval(timer);
      timer = setInterval(() => notify({ WATCHDOG: 1 }), ms);
      timer.unref();
      return ms;
    },
    close: async () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.stdin?.end();
        setTimeout(() => {
          c.kill('SIGKILL');
          resolve();
        }, 2000).unref();
      });
    },
  };
}

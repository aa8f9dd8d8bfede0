import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A real AF_UNIX SOCK_DGRAM receiver (python3: Node cannot bind datagram unix sockets) that
 * prints every datagram as one JSON line, standing in for systemd's notify socket.
 */
const RECEIVER = `
import json, os, socket, sys
p = sys.argv[1]
if p.startswith("@"):
    p = "\\0" + p[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(p)
print("LISTENING", flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps(data.decode()), flush=True)
`;

export interface NotifyReceiver {
  readonly socketPath: string;
  readonly messages: string[];
  waitFor(predicate: (m: string) => boolean, timeoutMs?: number): Promise<string>;
  close(): void;
}

/** `abstract: true` binds in the abstract namespace (NOTIFY_SOCKET=@name), as systemd may. */
export async function startNotifyReceiver(options: { abstract?: boolean } = {}): Promise<NotifyReceiver> {
  // AF_UNIX paths are limited to 108 bytes, so use a short directory, not t.testdir().
  const dir = mkdtempSync(path.join(tmpdir(), 'jn-'));
  const socketPath = options.abstract ? `@jetson-agent-test-${process.pid}-${Date.now()}` : path.join(dir, 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-c', RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  const waiters: { pred: (m: string) => boolean; resolve: (m: string) => void }[] = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`notify receiver exited with ${String(code)}`)));
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'LISTENING') {
          resolve();
          continue;
        }
        const msg = JSON.parse(line) as string;
        messages.push(msg);
        for (const w of [...waiters]) {
          if (w.pred(msg)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(msg);
          }
        }
      }
    });
  });
  return {
    socketPath,
    messages,
    waitFor: (pred, timeoutMs = 10000) => {
      const found = messages.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching notify message; got ${JSON.stringify(messages)}`)), timeoutMs);
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    close: () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

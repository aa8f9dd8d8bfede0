import t from 'tap';
import { probe } from '../../../agent/src/platform/exec.js';
import { AgentError } from '../../../agent/src/core/errors.js';

/** probe(): the start-up version queries (board detection) through plain child_process. */
t.test('returns stdout and exit 0 of a real program', async (t) => {
  const r = await probe('/bin/sh', ['-c', 'echo "cmake version 3.22.1"; echo warn >&2'], { timeoutMs: 5000 });
  t.equal(r.exitCode, 0);
  t.equal(r.stdout, 'cmake version 3.22.1\n');
  t.equal(r.stderr, 'warn\n');
  t.equal(r.command, '/bin/sh -c echo "cmake version 3.22.1"; echo warn >&2');
});

t.test('a non-zero exit is a result for the caller to inspect, not an error', async (t) => {
  const r = await probe('/bin/sh', ['-c', 'echo partial; exit 3'], { timeoutMs: 5000 });
  t.equal(r.exitCode, 3);
  t.equal(r.stdout, 'partial\n');
});

t.test('a missing program is EXEC_NOT_FOUND', async (t) => {
  const err = await probe('/nonexistent/cmake', ['--version'], { timeoutMs: 5000 }).catch((e: unknown) => e);
  t.ok(err instanceof AgentError);
  t.equal((err as AgentError).code, 'EXEC_NOT_FOUND');
  t.match((err as AgentError).message, '/nonexistent/cmake');
});

t.test('a hanging program is killed at the deadline: TIMEOUT', async (t) => {
  const started = Date.now();
  const err = await probe('/bin/sleep', ['30'], { timeoutMs: 200 }).catch((e: unknown) => e);
  t.equal((err as AgentError).code, 'TIMEOUT');
  t.ok(Date.now() - started < 10_000, 'did not wait for the program to finish');
});

t.test('an aborted signal is CANCELED', async (t) => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const err = await probe('/bin/sleep', ['30'], { timeoutMs: 20_000, signal: ac.signal }).catch((e: unknown) => e);
  t.equal((err as AgentError).code, 'CANCELED');
});

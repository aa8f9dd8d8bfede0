import t from 'tap';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { callPluginHelper, helperFailure } from '../../../agent/src/provision/plugin-helper-client.js';
import type { PluginRequest, PluginResult } from '../../../agent/src/provision/plugin-helper.js';
import { AgentError } from '../../../agent/src/core/errors.js';

/**
 * The agent's half of the plugin helper contract on real files (docs/provisioning.md). The
 * helper side here is a few lines that do what handlePluginRequest does to the files (take
 * request.json away, write result.json); the real helper runs in
 * test/integration/compose/request-ops-plugin.test.ts.
 */
const REQ: PluginRequest = { version: 1, id: 'rebuild-1', op: 'install', artifact: 'builds/k/libnvinfer_plugin.so.7.1.3', sha256: 'a'.repeat(64) };
const result = (id: string, ok = true): PluginResult => ({
  version: 1,
  id,
  op: 'install',
  ok,
  startedAt: '2026-11-28T00:00:00.000Z',
  finishedAt: '2026-11-28T00:00:01.000Z',
  exitCode: ok ? 0 : 1,
  output: ok ? { sha256: 'a'.repeat(64) } : null,
  error: ok ? null : { code: 'PLUGIN_COMMAND_FAILED', message: 'jetson-agent plugin install exited 1' },
  stderrTail: ok ? '' : 'ldconfig: cannot open',
});
const files = (state: string): string[] => readdirSync(path.join(state, 'plugin')).sort();

t.test('request written, taken by the helper, the result with the same id returned and deleted; a stale result is left alone', async (t) => {
  const state = t.testdir({ plugin: { 'result.json': JSON.stringify(result('old-request')) } });
  const plugin = path.join(state, 'plugin');
  let seen: unknown;
  const helper = setInterval(() => {
    if (!existsSync(path.join(plugin, 'request.json'))) return;
    renameSync(path.join(plugin, 'request.json'), path.join(plugin, 'request.processing.json'));
    seen = JSON.parse(readFileSync(path.join(plugin, 'request.processing.json'), 'utf8'));
    setTimeout(() => writeFileSync(path.join(plugin, 'result.json'), JSON.stringify(result('rebuild-1'))), 300);
    clearInterval(helper);
  }, 20);
  t.teardown(() => clearInterval(helper));
  const r = await callPluginHelper({ stateDir: state, request: REQ, pickupTimeoutMs: 5000, resultTimeoutMs: 5000, pollMs: 20 });
  t.same(seen, REQ, 'the helper read the documented request');
  t.equal(r.id, 'rebuild-1');
  t.equal(r.ok, true);
  t.same(files(state), ['request.processing.json'], 'result.json read and deleted');
});

t.test('nobody takes the request: PLUGIN_HELPER_NOT_RUNNING after the pickup timeout, request withdrawn', async (t) => {
  const state = t.testdir({});
  const t0 = Date.now();
  const err = await callPluginHelper({ stateDir: state, request: REQ, pickupTimeoutMs: 300, resultTimeoutMs: 60_000, pollMs: 20 }).catch((e: unknown) => e);
  t.ok(err instanceof AgentError);
  t.equal((err as AgentError).code, 'PLUGIN_HELPER_NOT_RUNNING');
  t.match((err as AgentError).hint, /sudo jetson-agent plugin install --last-build/);
  t.ok(Date.now() - t0 < 5000, 'did not wait for the result timeout');
  t.same(files(state), [], 'no request left for a helper that starts later');
});

t.test('canceled while waiting for pickup: the request is withdrawn, so the next call is not refused', async (t) => {
  const state = t.testdir({});
  const ac = new AbortController();
  const call = callPluginHelper({ stateDir: state, request: REQ, pickupTimeoutMs: 60_000, resultTimeoutMs: 60_000, pollMs: 20, signal: ac.signal }).catch((e: unknown) => e);
  await new Promise((r) => setTimeout(r, 100));
  t.same(files(state), ['request.json'], 'the request waits for the helper');
  ac.abort(new AgentError('CANCELED', '"plugin-rebuild" was canceled.'));
  const err = await call;
  t.equal((err as AgentError).code, 'CANCELED', 'the cancel reason, not a helper error');
  t.same(files(state), [], 'no request left for a helper that starts later');
  // The next rebuild's request goes through (a helper takes it this time).
  const plugin = path.join(state, 'plugin');
  const helper = setInterval(() => {
    if (!existsSync(path.join(plugin, 'request.json'))) return;
    renameSync(path.join(plugin, 'request.json'), path.join(plugin, 'request.processing.json'));
    writeFileSync(path.join(plugin, 'result.json'), JSON.stringify(result('rebuild-2')));
    clearInterval(helper);
  }, 20);
  t.teardown(() => clearInterval(helper));
  const r = await callPluginHelper({ stateDir: state, request: { ...REQ, id: 'rebuild-2' }, pickupTimeoutMs: 5000, resultTimeoutMs: 5000, pollMs: 20 });
  t.equal(r.id, 'rebuild-2');
});

t.test('taken but no result: PLUGIN_HELPER_TIMEOUT; a pending request of someone else: BUSY, untouched', async (t) => {
  const state = t.testdir({ plugin: {} });
  const plugin = path.join(state, 'plugin');
  const taker = setInterval(() => {
    if (existsSync(path.join(plugin, 'request.json'))) renameSync(path.join(plugin, 'request.json'), path.join(plugin, 'request.processing.json'));
  }, 20);
  t.teardown(() => clearInterval(taker));
  const err = await callPluginHelper({ stateDir: state, request: REQ, pickupTimeoutMs: 5000, resultTimeoutMs: 300, pollMs: 20 }).catch((e: unknown) => e);
  clearInterval(taker);
  t.equal((err as AgentError).code, 'PLUGIN_HELPER_TIMEOUT');

  const other = JSON.stringify({ ...REQ, id: 'other' });
  writeFileSync(path.join(plugin, 'request.json'), other);
  const busy = await callPluginHelper({ stateDir: state, request: REQ, pickupTimeoutMs: 300, resultTimeoutMs: 300, pollMs: 20 }).catch((e: unknown) => e);
  t.equal((busy as AgentError).code, 'BUSY');
  t.equal(readFileSync(path.join(plugin, 'request.json'), 'utf8'), other, 'the pending request is not touched');
});

t.test('a failed result keeps the install command\'s own code; a refused request is PLUGIN_HELPER_FAILED with the helper\'s code', async (t) => {
  const verify = helperFailure({ ...result('r', false), output: { error: { code: 'PLUGIN_VERIFY_FAILED', message: 'load check failed; the original was restored.', hint: 'See plugin status.' } } });
  t.equal(verify.code, 'PLUGIN_VERIFY_FAILED');
  t.match(verify.message, /plugin install` failed: load check failed/);
  t.equal(verify.hint, 'See plugin status.');
  const refused = helperFailure({ ...result('r', false), error: { code: 'PLUGIN_ARTIFACT_HASH_MISMATCH', message: 'artifact sha256 is 1…, request says a…' } });
  t.equal(refused.code, 'PLUGIN_HELPER_FAILED');
  t.match(refused.message, /PLUGIN_ARTIFACT_HASH_MISMATCH: artifact sha256 is .*\(stderr: ldconfig: cannot open\)/);
});

t.test('canceled after the helper took the request: the error says the swap may still complete', async (t) => {
  const state = t.testdir({});
  const plugin = path.join(state, 'plugin');
  const ac = new AbortController();
  // A helper that takes the request and then works longer than the caller waits.
  const helper = setInterval(() => {
    if (!existsSync(path.join(plugin, 'request.json'))) return;
    renameSync(path.join(plugin, 'request.json'), path.join(plugin, 'request.processing.json'));
    clearInterval(helper);
    setTimeout(() => ac.abort(new AgentError('TIMEOUT', '"plugin-rebuild" ran past its deadline.')), 50);
  }, 10);
  t.teardown(() => clearInterval(helper));
  const err = await callPluginHelper({ stateDir: state, request: REQ, pickupTimeoutMs: 5000, resultTimeoutMs: 60_000, pollMs: 20, signal: ac.signal }).catch((e: unknown) => e);
  t.equal((err as AgentError).code, 'TIMEOUT', 'the caller’s own reason');
  t.match((err as AgentError).message, /already taken request rebuild-1: the install may still complete/);
  t.match((err as AgentError).hint, /jetson-agent plugin status/);
});

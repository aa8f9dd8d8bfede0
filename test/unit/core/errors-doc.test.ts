import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../../agent/src/core/error-codes.js';
import { AgentError, toAgentError, UsageError } from '../../../agent/src/core/errors.js';
import { REPO_ROOT } from '../../helpers/cli.js';

t.test('docs/errors.md documents every error code', async (t) => {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'errors.md'), 'utf8');
  for (const code of Object.keys(ERROR_CODES)) t.match(doc, new RegExp('\\|\\s*`' + code + '`\\s*\\|'), `${code} is in docs/errors.md`);
});

t.test('AgentError formats one actionable line and maps exit codes', async (t) => {
  const e = new AgentError('EXEC_FAILED', 'cmake 3.10.2 is too old.', { hint: 'Install cmake ≥ 3.13.' });
  t.match(e.toLine(), /^[A-Z_]+: cmake 3\.10\.2 is too old\. Install cmake ≥ 3\.13\.$/);
  t.equal(e.exitCode, 1);
  t.equal(new UsageError('bad flag').exitCode, 2);
  t.same(Object.keys(e.toJSON()).sort(), ['code', 'hint', 'message']);
});

t.test('toAgentError keeps AgentErrors and wraps the rest', async (t) => {
  const orig = new AgentError('TIMEOUT', 'slow');
  t.equal(toAgentError(orig), orig);
  const wrapped = toAgentError(new Error('boom'));
  t.equal(wrapped.code, 'INTERNAL');
  t.equal((wrapped.cause as Error).message, 'boom');
  t.equal(toAgentError('plain').message, 'plain');
});

import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configDocsTable } from '../../../agent/src/core/config/docs.js';
import { configLeaves } from '../../../agent/src/core/config/leaves.js';
import { ConfigSchema } from '../../../agent/src/core/config/schema.js';
import { REPO_ROOT } from '../../helpers/cli.js';

t.test('docs/configuration.md contains the generated table of every key', async (t) => {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'configuration.md'), 'utf8');
  t.ok(doc.includes(configDocsTable()), 'run `node agent/dist/main.js config docs` and paste the table into docs/configuration.md');
  for (const leaf of configLeaves(ConfigSchema)) t.ok(doc.includes('`' + leaf.path.join('.') + '`'), `documents ${leaf.path.join('.')}`);
});

import t from 'tap';
import { describeRuntime, runtimeInfo } from '../../../agent/src/platform/runtime.js';

t.test('runtimeInfo tells Bun from Node by process.versions.bun, not by process.version', async (t) => {
  const node = runtimeInfo({ ...process.versions, node: '20.20.2' });
  t.same(node, { name: 'node', version: '20.20.2', nodeCompat: '20.20.2' });
  t.equal(describeRuntime(node), 'node 20.20.2');
  // What Bun 1.4.5 reports: a Node.js version of its own next to bun.
  const bun = runtimeInfo({ ...process.versions, node: '26.3.0', bun: '1.4.5' });
  t.same(bun, { name: 'bun', version: '1.4.5', nodeCompat: '26.3.0' });
  t.equal(describeRuntime(bun), 'bun 1.4.5 (Node.js 26.3.0 APIs)');
  t.equal(runtimeInfo().name, 'node', 'the unit tests run on Node');
});

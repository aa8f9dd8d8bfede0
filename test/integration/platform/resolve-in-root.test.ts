import t from 'tap';
import { HostPaths } from '../../../agent/src/platform/paths.js';
import { resolveInRoot } from '../../../agent/src/platform/resolve-in-root.js';

t.test('symlinks resolve inside the host root, never on the machine itself', async (t) => {
  const root = t.testdir({
    usr: {
      local: { cuda: t.fixture('symlink', '/etc/alternatives/cuda'), 'cuda-10.2': { 'version.txt': 'CUDA Version 10.2.89\n' } },
      lib: { 'libx.so.1': t.fixture('symlink', '../lib/./libx.so.1.2.3'), 'libx.so.1.2.3': 'x' },
    },
    etc: { alternatives: { cuda: t.fixture('symlink', '/usr/local/cuda-10.2') }, hosts: t.fixture('symlink', '/etc/hosts') },
    loop: { a: t.fixture('symlink', 'b'), b: t.fixture('symlink', 'a') },
  });
  const paths = new HostPaths(root);
  t.equal(await resolveInRoot(paths, '/usr/local/cuda/version.txt'), '/usr/local/cuda-10.2/version.txt', 'absolute chain stays in the root');
  t.equal(await resolveInRoot(paths, '/usr/lib/libx.so.1'), '/usr/lib/libx.so.1.2.3', 'relative target with .. and .');
  t.equal(await resolveInRoot(paths, '/etc/hosts'), undefined, 'a self-link is a loop, not the machine /etc/hosts');
  t.equal(await resolveInRoot(paths, '/loop/a'), undefined, 'loops end');
  t.equal(await resolveInRoot(paths, '/usr/missing'), undefined);
});

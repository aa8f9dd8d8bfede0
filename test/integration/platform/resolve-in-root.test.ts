import t from 'tap';
import path from 'node:path';
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

t.test('hard root: neither .. nor a symlink leads a host path out of --root', async (t) => {
  const dir = t.testdir({
    root: {
      usr: { lib: { up: t.fixture('symlink', '../../../..'), abs: t.fixture('symlink', '/etc'), dotdot: t.fixture('symlink', '../../..') } },
      etc: { 'x.conf': 'inside' },
      var: { lib: t.fixture('symlink', '../../outside') },
    },
    outside: { 'x.conf': 'outside' },
  });
  const root = path.join(dir, 'root');
  const paths = new HostPaths(root);
  t.equal(paths.toHost('/../../outside/x.conf'), path.join(root, 'outside/x.conf'), 'lexical .. stops at the root');
  t.equal(paths.toHost('/usr/../../../etc/x.conf'), path.join(root, 'etc/x.conf'));
  t.equal(await paths.resolve('/usr/lib/up/etc/x.conf'), '/etc/x.conf', 'a relative link climbing past the root stays in it');
  t.equal(await paths.resolve('/usr/lib/abs/x.conf'), '/etc/x.conf', 'an absolute link is relative to the root');
  t.equal(await paths.resolveForWrite('/usr/lib/dotdot/etc/new.conf'), path.join(root, 'etc/new.conf'), 'a write through a climbing link lands inside');
  t.equal(await paths.resolveForWrite('/var/lib/jetson-agent-root'), path.join(root, 'outside/jetson-agent-root'), 'var/lib -> ../../outside is <root>/outside, never the sibling of the root');
  t.equal(await paths.resolveForWrite('/missing/a/../../../b'), path.join(root, 'b'), 'missing components: .. still clamped');
  const real = new HostPaths('/');
  t.equal(real.toHost('/../etc/hosts'), '/etc/hosts');
});

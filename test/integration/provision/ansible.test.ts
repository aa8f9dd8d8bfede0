import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../helpers/cli.js';

/**
 * ansible/ as CI gates (issue #8): yamllint, ansible-lint with the production profile and
 * offline, --syntax-check, and the role's contracts that drift silently otherwise (unit
 * templates = systemd/ files, every default typed in argument_specs and documented).
 * The role running for real against a rootfs is `npm run test:provision`.
 */
const ANSIBLE = path.join(REPO_ROOT, 'ansible');
const ROLE = path.join(ANSIBLE, 'roles', 'jetson_agent');

function run(cmd: string, args: readonly string[]): { code: number | null; out: string } {
  const r = spawnSync(cmd, [...args], { cwd: ANSIBLE, encoding: 'utf8', env: { ...process.env, ANSIBLE_CONFIG: path.join(ANSIBLE, 'ansible.cfg'), NO_COLOR: '1', ANSIBLE_NOCOLOR: '1' } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

t.test('yamllint is clean', async (t) => {
  const r = run('yamllint', ['-c', '.yamllint', '-f', 'parsable', '.']);
  t.equal(r.out.trim(), '');
  t.equal(r.code, 0);
});

t.test('ansible-lint passes the production profile offline', async (t) => {
  const r = run('ansible-lint', ['-c', '.ansible-lint', '--offline', '-p', '--nocolor']);
  t.equal(r.code, 0, r.out);
  // 6.13 prints the highest profile that passed (ansible/ansible-lint#3998): production is the top.
  t.match(r.out, /Passed with production profile: 0 failure\(s\), 0 warning\(s\)/);
});

t.test('ansible-playbook --syntax-check passes', async (t) => {
  const r = run('ansible-playbook', ['-i', 'inventory/example/hosts.yml', 'site.yml', '--syntax-check']);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /playbook: site\.yml/);
  const graph = run('ansible-inventory', ['-i', 'inventory/example/hosts.yml', '--graph']);
  for (const g of ['@jetpack4', '@jetpack5', '@jetpack6']) t.match(graph.out, g, `inventory has ${g}`);
});

t.test('unit templates are the systemd/ files plus the ansible_managed header', async (t) => {
  for (const unit of readdirSync(path.join(REPO_ROOT, 'systemd')).filter((f) => /\.(service|path)$/.test(f))) {
    const tpl = readFileSync(path.join(ROLE, 'templates', 'systemd', `${unit}.j2`), 'utf8');
    const [header, ...rest] = tpl.split('\n');
    t.equal(header, '# {{ ansible_managed }}', `${unit}: header`);
    t.equal(rest.join('\n'), readFileSync(path.join(REPO_ROOT, 'systemd', unit), 'utf8'), `${unit}: same as systemd/${unit}`);
  }
});

t.test('every default is prefixed, typed in argument_specs and documented in ansible/README.md', async (t) => {
  const defaults = parse(readFileSync(path.join(ROLE, 'defaults', 'main.yml'), 'utf8')) as Record<string, unknown>;
  const spec = parse(readFileSync(path.join(ROLE, 'meta', 'argument_specs.yml'), 'utf8')) as {
    argument_specs: { main: { options: Record<string, { type: string; default?: unknown }> } };
  };
  const options = spec.argument_specs.main.options;
  const readme = readFileSync(path.join(ANSIBLE, 'README.md'), 'utf8');
  t.same(Object.keys(options).sort(), Object.keys(defaults).sort(), 'argument_specs lists exactly the defaults');
  for (const [name, value] of Object.entries(defaults)) {
    t.match(name, /^jetson_agent_/, `${name} prefixed`);
    t.same(options[name]?.default, value, `${name}: spec default = defaults/main.yml`);
    t.match(readme, `\`${name}\``, `${name} documented`);
  }
});

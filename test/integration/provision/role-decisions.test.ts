import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../helpers/cli.js';

/**
 * The role's own decisions, run by ansible-playbook on localhost (one process for every case):
 * the runtime it picks from a board's facts (tasks/runtime-choice.yml) and the unit files it
 * writes for a board's systemd (tasks/units.yml). The facts are what preflight.yml reads on a
 * board; here they are given per case, because no machine here is a Nano. That the role reads
 * them right on a target is `npm run test:provision`.
 */
const ROLE = path.join(REPO_ROOT, 'ansible', 'roles', 'jetson_agent');
const UNITS = ['jetson-agent.service', 'jetson-agent-plugin.service', 'jetson-agent-plugin.path'];
/** Every systemd a supported board runs: JetPack 4 (Ubuntu 18.04), 5 (20.04), 6 (22.04); and CI's own. */
const SYSTEMDS = [237, 245, 249, 252];

interface Case {
  readonly name: string;
  readonly facts: Record<string, string>;
  readonly params?: Record<string, string>;
  readonly expect: { choice: string } | { fail: RegExp };
}

const NANO = { jetson_agent_board_name: 'NVIDIA Jetson Nano Developer Kit', jetson_agent_l4t: '32.4.3', jetson_agent_userspace_bits: '64' };
const ORIN = { jetson_agent_board_name: 'NVIDIA Jetson Orin Nano Developer Kit', jetson_agent_l4t: '36.4.3', jetson_agent_userspace_bits: '64' };
const CASES: readonly Case[] = [
  { name: 'JetPack 6 (glibc 2.35): Node', facts: { ...ORIN, jetson_agent_glibc: '2.35' }, expect: { choice: 'node' } },
  { name: 'JetPack 5 (glibc 2.31): Node', facts: { ...ORIN, jetson_agent_l4t: '35.6.0', jetson_agent_glibc: '2.31' }, expect: { choice: 'node' } },
  { name: 'JetPack 4 (glibc 2.27): Bun', facts: { ...NANO, jetson_agent_glibc: '2.27' }, expect: { choice: 'bun' } },
  { name: 'JetPack 4 with an operator Node (jetson_agent_node_path): Node', facts: { ...NANO, jetson_agent_glibc: '2.27' }, params: { jetson_agent_node_path: '/opt/node-v20-jetpack4' }, expect: { choice: 'node' } },
  { name: 'JetPack 6 forced to Bun: Bun', facts: { ...ORIN, jetson_agent_glibc: '2.35' }, params: { jetson_agent_runtime: 'bun' }, expect: { choice: 'bun' } },
  {
    name: 'JetPack 4 forced to official Node: refused',
    facts: { ...NANO, jetson_agent_glibc: '2.27' },
    params: { jetson_agent_runtime: 'node' },
    expect: { fail: /^RUNTIME_UNSUPPORTED: localhost \(NVIDIA Jetson Nano Developer Kit, L4T 32\.4\.3\) has glibc 2\.27, and jetson_agent_runtime is node: official Node\.js >= 20 binaries need glibc >= 2\.28/ },
  },
  {
    name: 'glibc 2.16 (older than Bun needs): refused',
    facts: { ...NANO, jetson_agent_glibc: '2.16' },
    expect: { fail: /^RUNTIME_UNSUPPORTED: localhost \(NVIDIA Jetson Nano Developer Kit, L4T 32\.4\.3\) has glibc 2\.16: the agent needs glibc >= 2\.27 on a 64-bit userspace \(its native modules; Bun needs glibc >= 2\.17, Node\.js >= 20 needs glibc >= 2\.28\)\. Flash JetPack 4 or newer/ },
  },
  { name: 'glibc 2.24 (Bun runs, the native modules do not): refused', facts: { ...NANO, jetson_agent_glibc: '2.24' }, expect: { fail: /^RUNTIME_UNSUPPORTED: .* has glibc 2\.24: the agent needs glibc >= 2\.27/ } },
  { name: '32-bit userspace: refused', facts: { ...NANO, jetson_agent_glibc: '2.27', jetson_agent_userspace_bits: '32' }, expect: { fail: /^RUNTIME_UNSUPPORTED: .* has a 32-bit userspace \(glibc 2\.27\): the agent needs/ } },
  { name: 'no glibc (musl): refused', facts: { ...NANO, jetson_agent_glibc: '' }, expect: { fail: /^RUNTIME_UNSUPPORTED: .* has no GNU C library/ } },
];

/** One block per case: the role's runtime choice with the case's facts, its result or failure recorded. */
function caseBlock(c: Case): string {
  const vars = JSON.stringify({ ...c.facts, ...c.params });
  const name = JSON.stringify(c.name);
  return `
    - name: ${JSON.stringify(`Case ${c.name}`)}
      block:
        - name: Run the role's runtime choice
          ansible.builtin.include_role:
            name: jetson_agent
            tasks_from: runtime-choice.yml
          vars: ${vars}
        - name: Record the choice
          ansible.builtin.set_fact:
            results: "{{ results + [{'name': ${name.replace(/"/g, "'")}, 'choice': jetson_agent_runtime_choice}] }}"
      rescue:
        - name: Record the failure
          ansible.builtin.set_fact:
            results: "{{ results + [{'name': ${name.replace(/"/g, "'")}, 'fail': ansible_failed_result.msg}] }}"`;
}

function runPlaybook(dir: string): { code: number | null; out: string } {
  writeFileSync(
    path.join(dir, 'play.yml'),
    `---
- name: Role decisions
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    results: []
  tasks:${CASES.map(caseBlock).join('')}
    - name: Unit directories
      ansible.builtin.file:
        path: "${dir}/units/{{ item }}"
        state: directory
        mode: "0755"
      loop: ${JSON.stringify(SYSTEMDS)}
    - name: Units for each systemd
      ansible.builtin.include_role:
        name: jetson_agent
        tasks_from: units.yml
      vars:
        jetson_agent_systemd_version: "{{ item }}"
        jetson_agent_unit_dir: "${dir}/units/{{ item }}"
      loop: ${JSON.stringify(SYSTEMDS)}
    - name: Write the results
      ansible.builtin.copy:
        content: "{{ results | to_json }}"
        dest: "${dir}/results.json"
        mode: "0644"
`,
  );
  const r = spawnSync('ansible-playbook', ['-i', 'localhost,', path.join(dir, 'play.yml')], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_ROLES_PATH: path.dirname(ROLE), ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false' },
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** The directive → first systemd version table of docs/reference/systemd-versions.md. */
function directiveVersions(): Map<string, number> {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'reference', 'systemd-versions.md'), 'utf8');
  return new Map([...doc.matchAll(/^\| `([A-Za-z]+)=` \| (\d+) \|/gm)].map((m) => [m[1] ?? '', Number(m[2])]));
}

function directives(text: string): { key: string; value: string }[] {
  return text
    .split('\n')
    .map((l) => /^([A-Za-z]+)=(.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ key: m[1] ?? '', value: m[2] ?? '' }));
}

const dir = t.testdir();
const play = runPlaybook(dir);

t.test('ansible-playbook runs the role\'s decision tasks', async (t) => {
  t.equal(play.code, 0, play.out);
});

t.test('runtime choice by board: Node where glibc >= 2.28, Bun on JetPack 4, RUNTIME_UNSUPPORTED where neither fits', async (t) => {
  const results = JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as { name: string; choice?: string; fail?: string }[];
  for (const c of CASES) {
    const r = results.find((x) => x.name === c.name);
    if ('choice' in c.expect) t.equal(r?.choice?.trim(), c.expect.choice, c.name);
    else t.match(r?.fail ?? `no failure (chose ${String(r?.choice)})`, c.expect.fail, c.name);
  }
});

t.test('units for each systemd: nothing newer than the board\'s systemd; for a current one exactly systemd/', async (t) => {
  const since = directiveVersions();
  const vars = parse(readFileSync(path.join(ROLE, 'vars', 'main.yml'), 'utf8')) as { jetson_agent_systemd_directive_since: Record<string, number>; jetson_agent_syscall_service_group_since: number };
  // The role's table is the doc's table above JetPack 4's 237.
  t.same(
    vars.jetson_agent_systemd_directive_since,
    Object.fromEntries([...since].filter(([, v]) => v > 237)),
    'vars/main.yml leaves out exactly the directives docs/reference/systemd-versions.md dates after 237',
  );
  for (const unit of UNITS) {
    for (const d of directives(readFileSync(path.join(REPO_ROOT, 'systemd', unit), 'utf8'))) {
      t.ok(since.has(d.key), `${unit}: ${d.key}= has its systemd version in docs/reference/systemd-versions.md`);
    }
  }
  for (const version of SYSTEMDS) {
    for (const unit of UNITS) {
      const text = readFileSync(path.join(dir, 'units', String(version), unit), 'utf8');
      const newer = directives(text).filter((d) => (since.get(d.key) ?? Infinity) > version);
      t.same(newer, [], `${unit} for systemd ${version}: no directive newer than ${version}`);
      const filter = directives(text).find((d) => d.key === 'SystemCallFilter')?.value;
      if (filter !== undefined) {
        t.equal(filter.includes('@system-service'), version >= vars.jetson_agent_syscall_service_group_since, `${unit} for ${version}: @system-service only from systemd 239`);
      }
      if (version === 252) {
        const [header, ...rest] = text.split('\n');
        t.match(header, /^# /, `${unit}: ansible_managed header`);
        t.equal(rest.join('\n'), readFileSync(path.join(REPO_ROOT, 'systemd', unit), 'utf8'), `${unit} for systemd 252 is systemd/${unit}`);
      }
    }
  }
  const jp4 = readFileSync(path.join(dir, 'units', '237', 'jetson-agent.service'), 'utf8');
  t.match(jp4, /^# ProtectClock=yes: left out, needs systemd 245 \(this board has 237\)$/m, 'a left-out directive says why');
  t.match(jp4, /^SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io$/m);
});

t.test('systemd-analyze verify (CI\'s systemd) prints nothing for the units rendered for every version', async (t) => {
  for (const version of SYSTEMDS) {
    const root = path.join(dir, 'root', String(version));
    for (const exe of ['opt/jetson-agent/current/bin/jetson-agent', 'opt/jetson-agent/current/bin/jetson-agent-plugin-helper']) {
      mkdirSync(path.dirname(path.join(root, exe)), { recursive: true });
      copyFileSync('/usr/bin/true', path.join(root, exe));
    }
    mkdirSync(path.join(root, 'usr/lib/systemd'), { recursive: true });
    cpSync('/usr/lib/systemd/system', path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
    cpSync(path.join(dir, 'units', String(version)), path.join(root, 'etc/systemd/system'), { recursive: true });
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', `--root=${root}`, ...UNITS], { encoding: 'utf8' });
    t.equal((r.stdout + r.stderr).trim(), '', `units for systemd ${version}: verify is silent`);
  }
});

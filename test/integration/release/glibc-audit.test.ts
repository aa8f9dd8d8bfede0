import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compareVersions, highestGlibc, machineName, parseElf } from '../../../agent/src/plugin/elf.js';
import { REPO_ROOT } from '../../helpers/cli.js';
import { releaseNatives } from '../../helpers/release-natives.js';

/**
 * JetPack 4 (L4T R32, Ubuntu 18.04) has glibc 2.27, the oldest any supported Jetson runs
 * (docs/provisioning.md "JetPack 4"). Every native file the linux-arm64 release ships or
 * installs must load there: a pin that needs more (sharp's libvips 1.3.x needs 2.28, say)
 * fails here, in CI, instead of with a dlopen error on a Nano.
 */
const JETPACK4_GLIBC = '2.27';
const AARCH64 = 183;

interface Row {
  readonly pkg: string;
  readonly file: string;
  readonly glibc: string;
}

/** The table in docs/provisioning.md between the glibc-audit markers. */
function documentedRows(): Row[] {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'provisioning.md'), 'utf8');
  const start = doc.indexOf('<!-- glibc-audit:start -->');
  const end = doc.indexOf('<!-- glibc-audit:end -->');
  if (start < 0 || end < start) return [];
  return [...doc.slice(start, end).matchAll(/^\| `([^`]+)` \| `([^`]+)` \| ([\d.]+|none) \|/gm)].map((m) => ({ pkg: m[1] ?? '', file: m[2] ?? '', glibc: m[3] ?? '' }));
}

t.test(`every native file of the linux-arm64 release needs glibc <= ${JETPACK4_GLIBC} (JetPack 4)`, async (t) => {
  const natives = await releaseNatives('arm64');
  const rows: Row[] = [];
  const problems: string[] = [];
  for (const n of natives) {
    const elf = parseElf(readFileSync(n.abs));
    // onnxruntime-node carries every platform's binaries; the release keeps linux/arm64 only.
    if (elf.machine !== AARCH64) continue;
    if (elf.versionNeeds === null) {
      problems.push(`${n.pkg} ${n.file}: no section headers, its glibc needs cannot be read`);
      continue;
    }
    const glibc = highestGlibc(elf) ?? 'none';
    rows.push({ pkg: n.pkg, file: n.file, glibc });
    if (glibc !== 'none' && compareVersions(glibc, JETPACK4_GLIBC) > 0) problems.push(`${n.pkg} ${n.file} needs GLIBC_${glibc}`);
  }
  t.same(problems, [], `needs above GLIBC_${JETPACK4_GLIBC} break JetPack 4: pin an older version (docs/provisioning.md "glibc audit")`);

  // The audit must have seen what the agent loads on a board, or it proves nothing.
  for (const [pkg, file] of [
    [/^@img\/sharp-linux-arm64@/, /sharp-linux-arm64\.node$/],
    [/^@img\/sharp-libvips-linux-arm64@/, /libvips-cpp\.so/],
    [/^onnxruntime-node@/, /linux\/arm64\/libonnxruntime\.so\.1$/],
    [/^onnxruntime-node@/, /linux\/arm64\/onnxruntime_binding\.node$/],
    [/^@oven\/bun-linux-aarch64@/, /^bin\/bun$/],
  ] as const) {
    t.ok(rows.some((r) => pkg.test(r.pkg) && file.test(r.file)), `audited ${pkg.source} ${file.source}`);
  }
  const foreign = natives.filter((n) => parseElf(readFileSync(n.abs)).machine !== AARCH64);
  t.same(
    foreign.filter((n) => !n.pkg.startsWith('onnxruntime-node@')).map((n) => `${n.pkg} ${n.file}: ${machineName(parseElf(readFileSync(n.abs)).machine)}`),
    [],
    'no arm64 package carries another machine\'s binary (only onnxruntime-node, whose other platforms make-release drops)',
  );

  // The launcher (bin/runtime.sh) states what the board needs in its errors: the measured numbers.
  const launcher = readFileSync(path.join(REPO_ROOT, 'bin', 'runtime.sh'), 'utf8');
  const constant = (name: string): string | undefined => new RegExp(`^${name}=([\\d.]+)$`, 'm').exec(launcher)?.[1];
  const isBun = (r: Row): boolean => r.pkg.startsWith('@oven/bun-');
  const highest = (r: readonly Row[]): string | undefined =>
    r
      .map((x) => x.glibc)
      .filter((g) => g !== 'none')
      .sort(compareVersions)
      .pop();
  t.equal(constant('JA_NATIVE_MIN_GLIBC'), highest(rows.filter((r) => !isBun(r))), 'bin/runtime.sh: JA_NATIVE_MIN_GLIBC is what the native modules need');
  t.equal(constant('JA_BUN_MIN_GLIBC'), highest(rows.filter(isBun)), 'bin/runtime.sh: JA_BUN_MIN_GLIBC is what the Bun binary needs');

  const sortRows = (r: readonly Row[]): Row[] => [...r].sort((a, b) => `${a.pkg} ${a.file}`.localeCompare(`${b.pkg} ${b.file}`));
  t.same(sortRows(documentedRows()), sortRows(rows), 'docs/provisioning.md lists the audit as measured (update its table when a pin changes)');
  t.comment(sortRows(rows).map((r) => `| \`${r.pkg}\` | \`${r.file}\` | ${r.glibc} |`).join('\n'));
});

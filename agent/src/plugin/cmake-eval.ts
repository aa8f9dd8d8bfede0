import path from 'node:path/posix';
import { evaluateCondition, UNKNOWN, type Tri, type Word } from './cmake-condition.js';
import { unmodelledOutputs } from './cmake-outputs.js';
import { parseCmake, type CmakeArg, type CmakeNode } from './cmake-script.js';

/**
 * A pure, partial evaluator of a CMake project's configure step, enough to learn from a
 * TensorRT OSS tree's own CMakeLists.txt files which library targets a configure defines,
 * which subdirectories it descends into and which -D variables it reads. It runs the
 * commands that shape those answers (set, option, list, if/elseif/else, foreach, include,
 * add_subdirectory, add_library, set_target_properties, project) and treats the results of
 * commands it does not model (find_package, file(STRINGS), string(REGEX) …) as unknown. An
 * if() whose condition depends on an unknown value runs its branches "uncertain": what they
 * define is reported with `certain: false` and their variable changes are discarded.
 *
 * "Used" follows cmake's own check for `Manually-specified variables were not used by the
 * project`: a variable counts as used when it is expanded (`${X}`), named bare in if(), or
 * set; `if(DEFINED X)` alone does not count (checked against cmake 3.25, see
 * docs/reference/tensorrt-oss-trees.md).
 */

export interface EvalInput {
  /** Tree-relative path → text: CMakeLists.txt, plugin/CMakeLists.txt, cmake/modules/*.cmake … */
  readonly files: ReadonlyMap<string, string>;
  /** Tree-relative directories that exist (plugin/batchedNMSPlugin …). */
  readonly dirs: ReadonlySet<string>;
  /** -D values given on the command line (they are cache entries: `set(… CACHE …)` keeps them). */
  readonly defines: ReadonlyMap<string, string>;
  /** add_subdirectory() targets to descend into (tree-relative); others are only recorded. */
  readonly follow: (dir: string) => boolean;
}

export interface TargetRecord {
  readonly name: string;
  /** SHARED, STATIC, OBJECT, MODULE, INTERFACE or DEFAULT (no keyword). */
  readonly type: string;
  /** Tree-relative directory whose CMakeLists.txt defined it. */
  readonly dir: string;
  readonly certain: boolean;
}

export interface SubdirRecord {
  readonly dir: string;
  readonly certain: boolean;
}

export interface EvalResult {
  readonly minimumCmake: string | undefined;
  readonly languages: readonly string[];
  /** Variables cmake counts as used (see above). */
  readonly used: ReadonlySet<string>;
  /** Every variable named in executed code, including `if(DEFINED X)`. */
  readonly mentioned: ReadonlySet<string>;
  readonly targets: readonly TargetRecord[];
  readonly subdirs: readonly SubdirRecord[];
  /** target → property → value (set_target_properties). */
  readonly properties: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

const SRC = '/src';
const BIN = '/build';



class Scope {
  constructor(
    readonly vars: Map<string, string>,
    readonly unknown: Set<string>,
  ) {}
  clone(): Scope {
    return new Scope(new Map(this.vars), new Set(this.unknown));
  }
}

interface Frame {
  readonly scope: Scope;
  /** Tree-relative directory of the CMakeLists.txt being run. */
  readonly dir: string;
  readonly certain: boolean;
}

export function evaluateCmake(input: EvalInput): EvalResult {
  const used = new Set<string>();
  const mentioned = new Set<string>();
  const targets: TargetRecord[] = [];
  const subdirs: SubdirRecord[] = [];
  const properties = new Map<string, Map<string, string>>();
  const languages = new Set<string>();
  let minimumCmake: string | undefined;
  const functions = new Set<string>();

  const use = (name: string): void => {
    used.add(name);
    mentioned.add(name);
  };

  const lookup = (s: Scope, name: string): { value: string; unknown: boolean; defined: boolean } => {
    use(name);
    if (s.unknown.has(name)) return { value: '', unknown: true, defined: true };
    const v = s.vars.get(name);
    return { value: v ?? '', unknown: false, defined: v !== undefined };
  };

  /** `${X}` references (nested), `$ENV{X}` (unknown), generator expressions kept verbatim. */
  const expand = (s: Scope, text: string): { text: string; unknown: boolean } => {
    let unknown = false;
    let out = text;
    for (let guard = 0; guard < 32; guard++) {
      const m = /\$(ENV|CACHE)?\{([^${}]*)\}/.exec(out);
      if (!m) break;
      let value = '';
      if (m[1] === 'ENV') unknown = true;
      else {
        const r = lookup(s, m[2] ?? '');
        if (r.unknown) unknown = true;
        value = r.value;
      }
      out = out.slice(0, m.index) + value + out.slice(m.index + m[0].length);
    }
    return { text: out, unknown };
  };

  const words = (s: Scope, args: readonly CmakeArg[]): Word[] => {
    const out: Word[] = [];
    for (const a of args) {
      const e = expand(s, a.text);
      if (a.quoted) out.push({ text: e.text, quoted: true, unknown: e.unknown });
      else if (e.unknown && e.text === '') out.push({ text: '', quoted: false, unknown: true });
      else for (const part of e.text.split(/(?<!\\);/)) if (part !== '') out.push({ text: part, quoted: false, unknown: e.unknown });
    }
    return out;
  };

  const condition = (s: Scope, args: readonly CmakeArg[]): Tri => {
    // Arguments are expanded first, as cmake does; parentheses stay tokens.
    const toks: Word[] = [];
    for (const a of args) {
      if (!a.quoted && (a.text === '(' || a.text === ')')) toks.push({ text: a.text, quoted: false, unknown: false });
      else toks.push(...words(s, [a]));
    }
    return evaluateCondition(toks, {
      get: (name) => (s.unknown.has(name) ? UNKNOWN : s.vars.get(name)),
      use,
      mention: (name) => mentioned.add(name),
      hasTarget: (name) => targets.some((t) => t.name === name),
      hasCommand: (name) => functions.has(name.toLowerCase()),
    });
  };

  // ---- commands ---------------------------------------------------------------------
  const setVar = (f: Frame, name: string, value: string | undefined, unknown = false): void => {
    use(name);
    if (value === undefined) f.scope.vars.delete(name);
    else f.scope.vars.set(name, value);
    if (unknown) f.scope.unknown.add(name);
    else f.scope.unknown.delete(name);
  };

  const includeFile = (f: Frame, name: string): string | undefined => {
    const candidates: string[] = [];
    if (/\.cmake$/.test(name) || name.includes('/')) {
      const rel = name.startsWith(SRC + '/') ? name.slice(SRC.length + 1) : path.normalize(path.join(f.dir, name));
      candidates.push(rel);
    } else {
      for (const dir of (f.scope.vars.get('CMAKE_MODULE_PATH') ?? '').split(';').filter(Boolean)) {
        if (dir.startsWith(SRC)) candidates.push(path.normalize(path.join(dir.slice(SRC.length + 1), `${name}.cmake`)));
      }
    }
    return candidates.find((c) => input.files.has(c));
  };

  const run = (f: Frame, nodes: readonly CmakeNode[]): void => {
    for (const n of nodes) {
      if (n.kind === 'if') {
        let decided = false;
        for (const b of n.branches) {
          const c = condition(f.scope, b.condition);
          if (c === true) {
            run(f, b.body);
            decided = true;
            break;
          }
          if (c === 'unknown') {
            run({ ...f, scope: f.scope.clone(), certain: false }, b.body);
            // Everything after an unknown branch may or may not run: run it uncertain too.
            const rest = n.branches.slice(n.branches.indexOf(b) + 1);
            for (const r of rest) run({ ...f, scope: f.scope.clone(), certain: false }, r.body);
            run({ ...f, scope: f.scope.clone(), certain: false }, n.orElse);
            decided = true;
            break;
          }
        }
        if (!decided) run(f, n.orElse);
      } else if (n.kind === 'foreach') {
        const w = words(f.scope, n.args).map((x) => x.text);
        const [loopVar, ...rest] = w;
        if (!loopVar) continue;
        let items: string[] = [];
        if (rest[0] === 'RANGE') continue;
        if (rest[0] === 'IN') {
          let mode = '';
          for (const x of rest.slice(1)) {
            if (x === 'LISTS' || x === 'ITEMS' || x === 'ZIP_LISTS') mode = x;
            else if (mode === 'LISTS') items.push(...lookup(f.scope, x).value.split(';').filter(Boolean));
            else if (mode === 'ITEMS') items.push(x);
          }
        } else items = rest;
        for (const item of items) {
          f.scope.vars.set(loopVar, item);
          run(f, n.body);
        }
        f.scope.vars.delete(loopVar);
      } else if (n.kind === 'block') {
        if (n.opener === 'function' || n.opener === 'macro') {
          const name = n.args[0]?.text.toLowerCase();
          if (name) functions.add(name);
        } else if (n.opener === 'block') run(f, n.body);
        // while(): not run (none of the files this reads decides a target in a loop).
      } else {
        command(f, n.command.name, n.command.args);
      }
    }
  };

  const command = (f: Frame, name: string, raw: readonly CmakeArg[]): void => {
    const w = words(f.scope, raw);
    const a = w.map((x) => x.text);
    const anyUnknown = w.some((x) => x.unknown);
    switch (name) {
      case 'cmake_minimum_required': {
        const i = a.indexOf('VERSION');
        if (i >= 0 && a[i + 1]) minimumCmake ??= (a[i + 1] as string).split('...')[0];
        return;
      }
      case 'project': {
        setVar(f, 'PROJECT_NAME', a[0]);
        setVar(f, 'PROJECT_SOURCE_DIR', path.join(SRC, f.dir));
        const vi = a.indexOf('VERSION');
        if (vi >= 0 && a[0]) {
          setVar(f, 'PROJECT_VERSION', a[vi + 1], w[vi + 1]?.unknown);
          setVar(f, `${a[0]}_VERSION`, a[vi + 1], w[vi + 1]?.unknown);
        }
        const li = a.indexOf('LANGUAGES');
        const KEYWORDS = /^(VERSION|DESCRIPTION|HOMEPAGE_URL|LANGUAGES)$/;
        let langs: string[] = [];
        if (li >= 0) {
          for (const x of a.slice(li + 1)) {
            if (KEYWORDS.test(x)) break;
            langs.push(x);
          }
        } else if (!a.slice(1).some((x) => KEYWORDS.test(x))) langs = a.slice(1);
        if (li < 0 && langs.length === 0) langs = ['C', 'CXX'];
        for (const l of langs) if (l !== 'NONE' && f.certain) languages.add(l);
        return;
      }
      case 'enable_language':
        if (f.certain) for (const l of a) if (l !== 'OPTIONAL') languages.add(l);
        return;
      case 'set': {
        const [v, ...vals] = a;
        if (!v) return;
        const ci = vals.indexOf('CACHE');
        const ps = vals.indexOf('PARENT_SCOPE');
        const value = (ci >= 0 ? vals.slice(0, ci) : ps >= 0 ? vals.slice(0, ps) : vals).join(';');
        if (ci >= 0 && !vals.includes('FORCE') && (input.defines.has(v) || f.scope.vars.has(v))) {
          use(v);
          return;
        }
        if (ps >= 0) return; // only the parent's scope changes
        setVar(f, v, vals.length === 0 ? undefined : value, anyUnknown);
        return;
      }
      case 'unset':
        if (a[0]) setVar(f, a[0], undefined);
        return;
      case 'option':
        if (a[0] && !f.scope.vars.has(a[0])) setVar(f, a[0], a[2] ?? 'OFF', w[2]?.unknown);
        else if (a[0]) use(a[0]);
        return;
      case 'set_ifndef': // TensorRT's cmake/modules/set_ifndef.cmake: if(NOT DEFINED ${var}) set(...)
        if (a[0]) {
          mentioned.add(a[0]);
          if (!f.scope.vars.has(a[0]) && !f.scope.unknown.has(a[0])) setVar(f, a[0], a.slice(1).join(';'), w.slice(1).some((x) => x.unknown));
        }
        return;
      case 'list': {
        const [op, v, ...items] = a;
        if (!v || !op) return;
        const cur = lookup(f.scope, v);
        const list = cur.value.split(';').filter(Boolean);
        if (op === 'APPEND') setVar(f, v, [...list, ...items].join(';'), cur.unknown || w.slice(2).some((x) => x.unknown));
        else if (op === 'PREPEND') setVar(f, v, [...items, ...list].join(';'), cur.unknown);
        else if (op === 'REMOVE_ITEM') setVar(f, v, list.filter((x) => !items.includes(x)).join(';'), cur.unknown);
        else if (op === 'REMOVE_DUPLICATES') setVar(f, v, [...new Set(list)].join(';'), cur.unknown);
        else for (const o of unmodelledOutputs(name, a)) setVar(f, o, '', true);
        return;
      }
      case 'separate_arguments':
        // separate_arguments(VAR): the space-separated value becomes a ;-list (GPU_ARCHS="53 62").
        if (a[0] && a.length === 1) {
          const cur = lookup(f.scope, a[0]);
          setVar(f, a[0], cur.value.trim().split(/\s+/).filter(Boolean).join(';'), cur.unknown);
        } else if (a[0]) setVar(f, a[0], '', true);
        return;
      case 'cmake_path':
        if (a[0] === 'SET' && a[1]) setVar(f, a[1], a.slice(2).join(';'), w.slice(2).some((x) => x.unknown));
        else if (a[1]) setVar(f, a[1], '', true);
        return;
      case 'include': {
        const file = a[0] ? includeFile(f, a[0]) : undefined;
        if (file) run({ ...f, dir: f.dir }, parseCmake(input.files.get(file) ?? ''));
        return;
      }
      case 'add_subdirectory': {
        if (!a[0]) return;
        const dir = path.normalize(path.join(f.dir, a[0].startsWith(SRC + '/') ? path.relative(path.join(SRC, f.dir), a[0]) : a[0]));
        subdirs.push({ dir, certain: f.certain && !anyUnknown });
        const file = path.join(dir, 'CMakeLists.txt');
        if (input.follow(dir) && input.files.has(file)) {
          const scope = f.scope.clone();
          scope.vars.set('CMAKE_CURRENT_SOURCE_DIR', path.join(SRC, dir));
          scope.vars.set('CMAKE_CURRENT_LIST_DIR', path.join(SRC, dir));
          scope.vars.set('CMAKE_CURRENT_BINARY_DIR', path.join(BIN, dir));
          run({ scope, dir, certain: f.certain }, parseCmake(input.files.get(file) ?? ''));
        }
        return;
      }
      case 'add_library': {
        const [target, kind] = a;
        if (!target) return;
        if (a.includes('IMPORTED') || a.includes('ALIAS')) return;
        const type = kind && /^(SHARED|STATIC|OBJECT|MODULE|INTERFACE)$/.test(kind) ? kind : 'DEFAULT';
        targets.push({ name: w[0]?.unknown ? '?' : target, type, dir: f.dir, certain: f.certain && !w[0]?.unknown });
        return;
      }
      case 'set_target_properties': {
        const pi = a.indexOf('PROPERTIES');
        if (pi < 0) return;
        for (const t of a.slice(0, pi)) {
          const m = properties.get(t) ?? new Map<string, string>();
          for (let i = pi + 1; i + 1 < a.length; i += 2) m.set(a[i] as string, a[i + 1] as string);
          properties.set(t, m);
        }
        return;
      }
      default:
        if (name === 'find_package' && a[0]) {
          for (const suffix of ['_FOUND', '_VERSION', '_INCLUDE_DIRS', '_LIBRARIES']) setVar(f, `${a[0]}${suffix}`, '', true);
          return;
        }
        for (const o of unmodelledOutputs(name, a)) if (o) setVar(f, o, '', true);
    }
  };

  const scope = new Scope(new Map(input.defines), new Set());
  const presets: Record<string, string> = {
    CMAKE_SOURCE_DIR: SRC,
    CMAKE_BINARY_DIR: BIN,
    CMAKE_CURRENT_SOURCE_DIR: SRC,
    CMAKE_CURRENT_LIST_DIR: SRC,
    CMAKE_CURRENT_BINARY_DIR: BIN,
    CMAKE_SYSTEM_NAME: 'Linux',
    UNIX: '1',
  };
  for (const [k, v] of Object.entries(presets)) if (!scope.vars.has(k)) scope.vars.set(k, v);
  const top = input.files.get('CMakeLists.txt');
  if (top !== undefined) run({ scope, dir: '', certain: true }, parseCmake(top));
  // The presets are cmake's own variables, not something the project "used" from -D.
  for (const k of Object.keys(presets)) if (!input.defines.has(k)) used.delete(k);
  return { minimumCmake, languages: [...languages], used, mentioned, targets, subdirs, properties };
}

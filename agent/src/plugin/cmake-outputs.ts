/**
 * Output variables of CMake commands cmake-eval.ts does not run (find_library, file(STRINGS),
 * string(REGEX …) …, per https://cmake.org/cmake/help/latest/manual/cmake-commands.7.html):
 * the evaluator marks them unknown instead of leaving them unset. Pure.
 */
/** Outputs of commands this evaluator does not run: `command → positions of output variables`. */
export function unmodelledOutputs(name: string, a: readonly string[]): string[] {
  const at = (i: number): string[] => (a[i] !== undefined ? [a[i]] : []);
  switch (name) {
    case 'find_library':
    case 'find_path':
    case 'find_program':
    case 'find_file':
    case 'get_filename_component':
    case 'get_property':
    case 'get_target_property':
    case 'get_directory_property':
    case 'try_compile':
    case 'try_run':
      return at(0);
    case 'file':
      return a[0] === 'STRINGS' || a[0] === 'READ' || a[0] === 'GLOB' || a[0] === 'GLOB_RECURSE' ? (a[0] === 'GLOB' || a[0] === 'GLOB_RECURSE' ? at(1) : at(2)) : [];
    case 'math':
      return at(1);
    case 'execute_process': {
      const out: string[] = [];
      for (let i = 0; i < a.length - 1; i++) if (/^(OUTPUT|ERROR|RESULT)_VARIABLE$/.test(a[i] ?? '')) out.push(a[i + 1] ?? '');
      return out;
    }
    case 'string': {
      const mode = a[0] ?? '';
      if (mode === 'REGEX') return at(a[1] === 'REPLACE' ? 4 : 3);
      if (/^(TOLOWER|TOUPPER|STRIP|LENGTH|MAKE_C_IDENTIFIER|GENEX_STRIP|SHA256|MD5)$/.test(mode)) return at(2);
      if (mode === 'REPLACE') return at(3);
      if (mode === 'SUBSTRING') return at(4);
      if (mode === 'FIND' || mode === 'COMPARE') return at(a.length - 1);
      if (mode === 'CONCAT' || mode === 'JOIN' || mode === 'APPEND' || mode === 'PREPEND') return at(mode === 'JOIN' ? 2 : 1);
      return [];
    }
    case 'list':
      return ['GET', 'LENGTH', 'FIND', 'JOIN', 'SUBLIST'].includes(a[0] ?? '') ? at(a.length - 1) : [];
    case 'cmake_host_system_information':
      return at(1);
    default:
      return [];
  }
}

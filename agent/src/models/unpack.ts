import path from 'node:path';
import { AgentError } from '../core/errors.js';
import type { TarMember } from '../platform/tar.js';

/**
 * Member checks for a safe package unpack (issue #4 §1): no absolute paths, no `..`, links
 * only to places inside the package, only files/dirs/links, no duplicates, no oversize
 * members, bounded member count and total size. Pure: `memberChecker` returns a stateful
 * check function that the tar reader calls for every member in order. The link check here
 * reads the link text only, which cannot see chains (`a/c → b/..` where `a/b → ..`): the
 * unpacked tree is checked again with the kernel resolving every link
 * (platform/tree-links.ts, called by store.ts).
 */
export interface UnpackLimits {
  readonly maxTotalBytes: number;
  readonly maxMembers: number;
}

export const DEFAULT_MAX_MEMBERS = 10_000;

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

/** Normalise a member name: strip `./` and trailing `/`; undefined when unsafe. */
export function normaliseMember(name: string): string | undefined {
  if (name.includes('\0') || name.includes('\\')) return undefined;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return undefined;
  const segs = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.length === 0) return '.';
  if (segs.some((s) => s === '..')) return undefined;
  return segs.join('/');
}

export function memberChecker(limits: UnpackLimits): (m: TarMember) => string | undefined {
  const seen = new Set<string>();
  let total = 0;
  let count = 0;
  return (m) => {
    count++;
    if (count > limits.maxMembers) return `more than ${limits.maxMembers} members`;
    if (!ALLOWED_TYPES.has(m.type)) return `member type ${m.type} is not allowed (only files, directories and links)`;
    const rel = normaliseMember(m.path);
    if (rel === undefined) return m.path.startsWith('/') ? 'absolute path' : 'path escapes the package ("..")';
    if (rel === '.') {
      if (m.type !== 'Directory') return 'empty member name';
      return undefined;
    }
    if (m.type !== 'Directory') {
      if (seen.has(rel)) return 'duplicate member name';
      seen.add(rel);
    }
    if (m.size > limits.maxTotalBytes) return `member of ${m.size} bytes is larger than the limit (${limits.maxTotalBytes})`;
    total += m.size;
    if (total > limits.maxTotalBytes) return `unpacked content exceeds ${limits.maxTotalBytes} bytes`;
    if (m.type === 'SymbolicLink') {
      const target = m.linkpath ?? '';
      if (target === '' || target.startsWith('/')) return `symlink to an absolute path (${target})`;
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target));
      if (resolved === '..' || resolved.startsWith('../') || resolved.startsWith('/')) return `symlink leads outside the package (${target})`;
    }
    if (m.type === 'Link') {
      const target = normaliseMember(m.linkpath ?? '');
      if (target === undefined || target === '.') return `hard link leads outside the package (${m.linkpath ?? ''})`;
      if (!seen.has(target)) return `hard link to a member not earlier in the package (${target})`;
    }
    return undefined;
  };
}

export function unsafeError(member: string, reason: string, pkg: string): AgentError {
  const tooBig = /larger than the limit|exceeds \d+ bytes/.test(reason);
  return new AgentError(tooBig ? 'PACKAGE_TOO_LARGE' : 'PACKAGE_UNSAFE', `Package ${pkg} refused: member "${member}": ${reason}. Nothing was stored.`, {
    hint: tooBig ? 'Raise models.maxPackageBytes or shrink the package.' : 'Rebuild the package with `jetson-fleet package create`.',
    details: { member, reason },
  });
}

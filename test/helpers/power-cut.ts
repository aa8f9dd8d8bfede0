import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Rebuilds what a power cut leaves of a directory tree from the trace test/helpers/fsync-shim.c
 * recorded, under two models of what survives:
 * - `fsynced`: only what was fsynced — a file's bytes as of its last fsync/fdatasync, a
 *   directory's entries as of its last fsync (POSIX fsync(2): syncing a file does not make
 *   its directory entry durable). Everything else is lost.
 * - `metadata-ordered`: every directory change up to the cut survives (a journaling file
 *   system committing metadata in order), but file bytes only as far as they were fsynced: a
 *   file renamed into place before its data was synced comes back empty (the ext4 "zero-length
 *   file" case; ext4 data=writeback, and data=ordered without auto_da_alloc).
 * The tree starts as the snapshot taken before the traced run; everything in it is durable.
 */
type Node = FileNode | DirNode | LinkNode;
interface FileNode {
  readonly kind: 'file';
  data: Buffer;
  durable: Buffer | null;
}
interface DirNode {
  readonly kind: 'dir';
  entries: Map<string, Node>;
  durable: Map<string, Node>;
}
interface LinkNode {
  readonly kind: 'link';
  readonly target: string;
}

export type Model = 'fsynced' | 'metadata-ordered';

export interface TraceEvent {
  readonly pid: number;
  readonly op: string;
  readonly args: readonly string[];
  /** Hex payload of a write. */
  readonly data?: Buffer;
}

export function parseTrace(text: string): TraceEvent[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pid, op, ...rest] = line.split(' ');
      if (op === 'SP') {
        const [file, len, hex] = rest;
        return { pid: Number(pid), op, args: [file ?? '', len ?? ''], data: Buffer.from(hex ?? '', 'hex') };
      }
      if (op === 'W') {
        const [fd, off, len, hex] = rest;
        return { pid: Number(pid), op, args: [fd ?? '', off ?? '', len ?? ''], data: Buffer.from(hex ?? '', 'hex') };
      }
      // Paths with spaces do not occur in the traced trees (the shim writes them unquoted).
      return { pid: Number(pid), op: op ?? '', args: rest };
    });
}

export class FsModel {
  private readonly root: DirNode;
  private readonly fds = new Map<string, Node>();

  private constructor(
    readonly prefix: string,
    root: DirNode,
  ) {
    this.root = root;
  }

  /** The tree under `prefix` as it is on disk now, all of it durable. */
  static snapshot(prefix: string): FsModel {
    const read = (p: string): Node => {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) return { kind: 'link', target: readlinkSync(p) };
      if (st.isDirectory()) {
        const entries = new Map<string, Node>(readdirSync(p).map((n) => [n, read(path.join(p, n))]));
        return { kind: 'dir', entries, durable: new Map(entries) };
      }
      const data = readFileSync(p);
      return { kind: 'file', data, durable: data };
    };
    return new FsModel(prefix, read(prefix) as DirNode);
  }

  private rel(p: string): string[] {
    if (p !== this.prefix && !p.startsWith(this.prefix + '/')) throw new Error(`outside the traced tree: ${p}`);
    return p.slice(this.prefix.length).split('/').filter(Boolean);
  }

  private parentOf(p: string): { dir: DirNode; name: string } {
    const parts = this.rel(p);
    const name = parts.pop();
    if (name === undefined) throw new Error(`the traced root itself: ${p}`);
    let cur: Node = this.root;
    for (const part of parts) {
      const next: Node | undefined = cur.kind === 'dir' ? cur.entries.get(part) : undefined;
      if (!next || next.kind !== 'dir') throw new Error(`model diverged: no directory ${part} on the way to ${p}`);
      cur = next;
    }
    if (cur.kind !== 'dir') throw new Error(`model diverged at ${p}`);
    return { dir: cur, name };
  }

  private lookup(p: string): Node | undefined {
    if (p === this.prefix) return this.root;
    const { dir, name } = this.parentOf(p);
    return dir.entries.get(name);
  }

  private allNodes(): Node[] {
    const out: Node[] = [...this.fds.values()];
    const walk = (n: Node): void => {
      out.push(n);
      if (n.kind === 'dir') for (const c of n.entries.values()) walk(c);
    };
    walk(this.root);
    return out;
  }

  apply(e: TraceEvent): void {
    const key = (fd: string | undefined): string => `${e.pid}:${fd ?? ''}`;
    switch (e.op) {
      case 'O': {
        const [fd, flags, p] = e.args;
        if (p === undefined || flags === undefined) throw new Error(`bad open event ${JSON.stringify(e)}`);
        let node = this.lookup(p);
        if (!node) {
          if (!flags.includes('C')) throw new Error(`model diverged: ${p} opened but does not exist`);
          const { dir, name } = this.parentOf(p);
          node = { kind: 'file', data: Buffer.alloc(0), durable: null };
          dir.entries.set(name, node);
        } else if (node.kind === 'file' && flags.includes('T')) {
          node.data = Buffer.alloc(0);
        }
        this.fds.set(key(fd), node);
        return;
      }
      case 'C':
        this.fds.delete(key(e.args[0]));
        return;
      case 'W': {
        const node = this.fds.get(key(e.args[0]));
        if (node?.kind !== 'file' || !e.data) throw new Error(`write to an unknown fd ${JSON.stringify(e.args)}`);
        const off = Number(e.args[1]);
        if (off < 0) throw new Error('write at an unknown offset');
        const end = off + e.data.length;
        const next = Buffer.alloc(Math.max(node.data.length, end));
        node.data.copy(next);
        e.data.copy(next, off);
        node.data = next;
        return;
      }
      case 'T': {
        const node = this.fds.get(key(e.args[0]));
        if (node?.kind !== 'file') throw new Error('truncate of an unknown fd');
        const len = Number(e.args[1]);
        const next = Buffer.alloc(len);
        node.data.copy(next, 0, 0, Math.min(len, node.data.length));
        node.data = next;
        return;
      }
      case 'S': {
        const node = this.fds.get(key(e.args[0]));
        if (!node) throw new Error('fsync of an unknown fd');
        if (node.kind === 'file') node.durable = Buffer.from(node.data);
        else if (node.kind === 'dir') node.durable = new Map(node.entries);
        return;
      }
      case 'SP': {
        // An fsync of a file opened where the shim cannot see (stdio inside libc): its whole content is durable.
        const p = e.args[0] ?? '';
        let node = this.lookup(p);
        if (!node) {
          const { dir, name } = this.parentOf(p);
          node = { kind: 'file', data: Buffer.alloc(0), durable: null };
          dir.entries.set(name, node);
        }
        if (node.kind !== 'file' || !e.data) throw new Error(`model diverged: ${p} synced but not a file`);
        node.data = Buffer.from(e.data);
        node.durable = Buffer.from(e.data);
        return;
      }
      case 'Y':
        for (const n of this.allNodes()) {
          if (n.kind === 'file') n.durable = Buffer.from(n.data);
          else if (n.kind === 'dir') n.durable = new Map(n.entries);
        }
        return;
      case 'R': {
        const [a, b] = e.args;
        if (a === undefined || b === undefined) throw new Error('bad rename');
        const from = this.parentOf(a);
        const node = from.dir.entries.get(from.name);
        if (!node) throw new Error(`model diverged: rename of missing ${a}`);
        const to = this.parentOf(b);
        from.dir.entries.delete(from.name);
        to.dir.entries.set(to.name, node);
        return;
      }
      case 'U': {
        const { dir, name } = this.parentOf(e.args[0] ?? '');
        if (!dir.entries.delete(name)) throw new Error(`model diverged: unlink of missing ${e.args[0] ?? ''}`);
        return;
      }
      case 'M': {
        const { dir, name } = this.parentOf(e.args[0] ?? '');
        dir.entries.set(name, { kind: 'dir', entries: new Map(), durable: new Map() });
        return;
      }
      case 'L': {
        const node = this.lookup(e.args[0] ?? '');
        if (!node) throw new Error('link of a missing file');
        const { dir, name } = this.parentOf(e.args[1] ?? '');
        dir.entries.set(name, node);
        return;
      }
      case 'SL': {
        const { dir, name } = this.parentOf(e.args[0] ?? '');
        dir.entries.set(name, { kind: 'link', target: e.args[1] ?? '' });
        return;
      }
      default:
        throw new Error(`the trace has a call the model cannot replay: ${e.op} ${e.args.join(' ')}`);
    }
  }

  /** The tree a power cut now would leave under `model`, or everything (`volatile`) for the self-check. */
  private view(model: Model | 'volatile'): Map<string, { kind: string; data?: Buffer; target?: string }> {
    const out = new Map<string, { kind: string; data?: Buffer; target?: string }>();
    const walk = (rel: string, n: Node): void => {
      if (n.kind === 'link') out.set(rel, { kind: 'link', target: n.target });
      else if (n.kind === 'file') out.set(rel, { kind: 'file', data: model === 'volatile' ? n.data : (n.durable ?? Buffer.alloc(0)) });
      else {
        out.set(rel, { kind: 'dir' });
        const entries = model === 'fsynced' ? n.durable : n.entries;
        for (const [name, c] of entries) walk(rel ? `${rel}/${name}` : name, c);
      }
    };
    walk('', this.root);
    return out;
  }

  /** A digest of the state under `model` (equal digests: the same crash state). */
  digest(model: Model | 'volatile'): string {
    const h = createHash('sha256');
    for (const [p, v] of [...this.view(model)].sort(([a], [b]) => (a < b ? -1 : 1))) {
      h.update(`${p}\0${v.kind}\0${v.target ?? ''}\0`);
      if (v.data) h.update(createHash('sha256').update(v.data).digest('hex'));
      h.update('\n');
    }
    return h.digest('hex');
  }

  /** Write the state under `model` to `dir` (a new directory). */
  materialize(model: Model, dir: string): void {
    for (const [p, v] of [...this.view(model)].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const target = path.join(dir, p);
      if (v.kind === 'dir') mkdirSync(target, { recursive: true });
      else if (v.kind === 'link') symlinkSync(v.target ?? '', target);
      else writeFileSync(target, v.data ?? Buffer.alloc(0), { mode: 0o755 });
    }
  }

  /** Differences between the replayed tree (everything applied) and the real one under `prefix`. */
  static replayDiff(model: FsModel): string[] {
    const real = FsModel.snapshot(model.prefix).view('volatile');
    const mine = model.view('volatile');
    const keys = new Set([...real.keys(), ...mine.keys()]);
    const describe = (v: { kind: string; data?: Buffer; target?: string } | undefined): string =>
      v ? `${v.kind}${v.target ? `->${v.target}` : ''}${v.data ? `:${createHash('sha256').update(v.data).digest('hex').slice(0, 12)}` : ''}` : 'absent';
    return [...keys].filter((k) => describe(real.get(k)) !== describe(mine.get(k))).map((k) => `${k}: replayed ${describe(mine.get(k))}, on disk ${describe(real.get(k))}`);
  }
}

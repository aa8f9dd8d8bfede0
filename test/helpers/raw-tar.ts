import { gzipSync } from 'node:zlib';

/**
 * Hand-built ustar archives for intake tests: lets a test write members a well-behaved tar
 * tool refuses to create (absolute paths, `..`, links out, duplicates, devices).
 */
export interface RawMember {
  readonly name: string;
  readonly body?: string | Buffer;
  /** '0' file, '1' hard link, '2' symlink, '3' char device, '5' directory. */
  readonly type?: '0' | '1' | '2' | '3' | '5';
  readonly linkname?: string;
  /** Declared size (defaults to the body length). */
  readonly size?: number;
  /** Mode bits (default 0644, directories 0755), e.g. 0o4755 for a setuid file. */
  readonly mode?: number;
}

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function octal(n: number, length: number): string {
  return n.toString(8).padStart(length - 1, '0') + '\0';
}

export function rawTar(members: readonly RawMember[], gzip = false): Buffer {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const body = m.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(m.body) ? m.body : Buffer.from(m.body);
    const type = m.type ?? '0';
    const h = Buffer.alloc(512);
    field(h, 0, 100, m.name);
    field(h, 100, 8, octal(m.mode ?? (type === '5' ? 0o755 : 0o644), 8));
    field(h, 108, 8, octal(0, 8));
    field(h, 116, 8, octal(0, 8));
    field(h, 124, 12, octal(m.size ?? (type === '0' ? body.length : 0), 12));
    field(h, 136, 12, octal(0, 12));
    field(h, 156, 1, type);
    if (m.linkname) field(h, 157, 100, m.linkname);
    field(h, 257, 6, 'ustar\0');
    field(h, 263, 2, '00');
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of h) sum += b;
    field(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
    blocks.push(h);
    if (type === '0' && body.length > 0) {
      blocks.push(body);
      const pad = (512 - (body.length % 512)) % 512;
      if (pad) blocks.push(Buffer.alloc(pad));
    }
  }
  blocks.push(Buffer.alloc(1024));
  const tar = Buffer.concat(blocks);
  return gzip ? gzipSync(tar) : tar;
}

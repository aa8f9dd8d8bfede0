import { createRequire } from 'node:module';

/**
 * mqtt-packet (under mqtt.js and aedes) builds a cache of 65,536 two-byte Buffers, one per
 * 16-bit number, the first time it writes a packet (`writeToStream.cacheNumbers`, on by
 * default). Measured in the idle agent's heap snapshot: 65,536 Buffer objects, 6 MB — a
 * quarter of the JS heap, and the burst that grows V8's young generation to its maximum.
 * A device writes a few packets a minute, so those 2-byte fields are allocated per packet
 * instead (mqtt-packet's documented switch). Resolved from each library's own location, so
 * the copy they actually load is the one switched off.
 */
let done = false;

export function disableMqttPacketNumberCache(): void {
  if (done) return;
  done = true;
  const here = createRequire(import.meta.url);
  for (const owner of ['mqtt', 'aedes']) {
    try {
      const req = createRequire(here.resolve(owner));
      (req('mqtt-packet') as { writeToStream: { cacheNumbers: boolean } }).writeToStream.cacheNumbers = false;
    } catch {
      // Not installed (aedes is optional at run time) or another layout: the cache stays on.
    }
  }
}

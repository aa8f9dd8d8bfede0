import { fileURLToPath } from 'node:url';
import { readText } from './fs.js';

let cachedVersion: string | undefined;

/**
 * The version in the repository's package.json (three levels up from agent/src/platform or
 * agent/dist/platform), read once; '0.0.0' when it cannot be read.
 */
export async function packageVersion(): Promise<string> {
  if (cachedVersion) return cachedVersion;
  const url = new URL('../../../package.json', import.meta.url);
  try {
    cachedVersion = (JSON.parse(await readText(fileURLToPath(url))) as { version: string }).version;
  } catch {
    cachedVersion = '0.0.0';
  }
  return cachedVersion;
}

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Debian's headless Chromium (scripts/system-deps.json: `chromium`) driven by playwright-core.
 * Never a downloaded browser: executablePath is the system binary, and the flags keep it off
 * the network (no component updates, no background requests, no sync). A fresh profile per
 * test, removed at close.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

export async function launchBrowser(o: { width?: number; height?: number } = {}): Promise<BrowserContext & { dispose(): Promise<void> }> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'console-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: o.width ?? 1280, height: o.height ?? 900 },
  });
  return Object.assign(ctx, {
    dispose: async () => {
      await ctx.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  });
}

/** Where tests keep screenshots: .tap/artifacts/ (ignored by git, kept after the run). */
export function artifactPath(name: string): string {
  return path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', '.tap', 'artifacts', name);
}

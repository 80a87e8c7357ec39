/** Debian's Chromium, driven by playwright-core, for the tests that show a page as a user sees it. */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = process.env.BATON_CHROMIUM ?? '/usr/bin/chromium';

/** Fails with the fix when Chromium is missing: the tests that need it are never skipped. */
export function checkChromium(): void {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is not at ${chromiumPath}: run .ci/install-chromium.sh (or apt-get install -y chromium), or set BATON_CHROMIUM to its path`);
  }
}

export function launchChromium(): Promise<Browser> {
  checkChromium();
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
}

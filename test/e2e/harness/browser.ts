// Debian's Chromium driven by playwright-core: one browser per mocha run, one context per scenario.
import * as fs from 'fs';
import * as path from 'path';
import { chromium, Browser, BrowserContext } from 'playwright-core';
import { screenshotDir, variant } from './env';

let browser: Browser | undefined;
const contexts = new Set<BrowserContext>();

export async function newContext(): Promise<BrowserContext> {
  if (!browser) {
    const executablePath = variant().chromium;
    if (!fs.existsSync(executablePath)) {
      throw new Error(`${executablePath} is missing: install the Debian package \`chromium\` (apt-get install -y chromium)`);
    }
    browser = await chromium.launch({
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-quic',
        '--disable-sync',
      ],
      timeout: 60000,
    });
  }
  // en-US: the dialogs follow the browser's language, and the specs find the English texts ("Authorize", the deploy notices).
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
  context.setDefaultTimeout(20000);
  context.setDefaultNavigationTimeout(30000);
  contexts.add(context);
  context.on('close', () => contexts.delete(context));
  return context;
}

/** Saves a screenshot of every open page under .e2e/screenshots/<variant>/ (called when a test fails). */
export async function screenshotOpenPages(title: string): Promise<string[]> {
  const dir = path.join(screenshotDir, variant().name);
  fs.mkdirSync(dir, { recursive: true });
  const base = title.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);
  const saved: string[] = [];
  let i = 0;
  for (const context of contexts) {
    for (const page of context.pages()) {
      const file = path.join(dir, `${base}${i ? `-${i}` : ''}.png`);
      i += 1;
      try {
        await page.screenshot({ path: file, fullPage: true, timeout: 10000 });
        saved.push(file);
      } catch {
        // a page that is closing cannot be captured; the others still are
      }
    }
  }
  return saved;
}

export async function closeBrowser(): Promise<void> {
  for (const context of [...contexts]) await context.close().catch(() => undefined);
  if (browser) await browser.close().catch(() => undefined);
  browser = undefined;
}

#!/usr/bin/env node
// Regenerates the README's screenshots (docs/*.png) from the running demo: start `npm start` first, then
// `node scripts/screenshots.js`. Needs Debian's chromium (apt-get install chromium).
'use strict';

const path = require('path');
const { chromium } = require('playwright-core');

const EDITOR = process.env.EDITOR_URL || 'http://localhost:1880/';
const OUT = path.resolve(__dirname, '..', 'docs');
const SLEEP_NODE = 'de00000000000012';
const INJECT_NODE = 'de00000000000011';

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(EDITOR);
    await page.waitForFunction(() => window.RED && RED.workspaces && RED.workspaces.active() && $('#red-ui-palette-container .red-ui-palette-node').length > 0, undefined, { timeout: 60000 });

    await page.locator(`g[id="${SLEEP_NODE}"] rect.red-ui-flow-node`).first().dblclick();
    await page.locator('#node-input-btn-account-edit').click();
    await page.locator('#node-config-input-clientId').waitFor({ state: 'visible' });

    const popupEvent = context.waitForEvent('page');
    await page.locator('#oura-authorize').click();
    const popup = await popupEvent;
    await popup.waitForURL((u) => u.pathname.endsWith('/oauth/v2/ext/oauth-authorize'));
    await popup.setViewportSize({ width: 620, height: 700 });
    await popup.screenshot({ path: path.join(OUT, 'consent-page.png') });
    await popup.getByRole('button', { name: 'Accept', exact: true }).click();
    await popup.waitForURL((u) => u.pathname.endsWith('/oura/auth/callback'));
    await page.waitForFunction(() => document.querySelector('#oura-auth-status').getAttribute('data-state') === 'authorized', undefined, { timeout: 20000 });
    // The success page closes its window by itself.
    if (!popup.isClosed()) await popup.waitForEvent('close', { timeout: 10000 }).catch(() => popup.close());
    await page.locator('#oura-check').click();
    await page.locator('#oura-check-result[data-outcome^="accepted"]').waitFor({ state: 'visible', timeout: 20000 });
    await page.screenshot({ path: path.join(OUT, 'account-dialog.png') });

    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-dialog-ok').waitFor({ state: 'detached' });
    await page.locator('#red-ui-tab-debug-link-button').click();
    await page.locator(`g[id="${INJECT_NODE}"] .red-ui-flow-node-button`).click();
    const msg = page.locator('.red-ui-debug-msg').first();
    await msg.waitFor({ state: 'visible', timeout: 20000 });
    // Unfold the first sleep period so the picture shows Oura's fields.
    await msg.locator('.red-ui-debug-msg-row').nth(0).click();
    await msg.locator('.red-ui-debug-msg-row').nth(1).click();
    await msg.locator('.red-ui-debug-msg-object-key', { hasText: 'bedtime_start' }).first().waitFor({ state: 'visible', timeout: 5000 });
    await page.screenshot({ path: path.join(OUT, 'flow-output.png') });
    console.log(`wrote ${['consent-page.png', 'account-dialog.png', 'flow-output.png'].map((f) => path.join('docs', f)).join(', ')}`);
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

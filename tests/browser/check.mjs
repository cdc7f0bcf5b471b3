// Opens badge pages in headless Chromium the way a person would and reports what they see.
//
//   node check.mjs --base http://127.0.0.1:PORT --out DIR name=/path [name=/path ...]
//
// For each page it prints one JSON line: the visible status, holder, headings and evidence
// text, whether any dialog (alert/confirm/prompt) opened, console errors (CSP violations
// show up there), whether the copy-link button was enabled by the external script, what a
// first Tab focuses, and the same page's text with JavaScript off. It saves a full-page
// screenshot as DIR/NAME.png (and DIR/NAME-nojs.png). Assertions live in tests/browser.rs.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
let base = '';
let out = 'screenshots';
const pages = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--base') base = args[++i];
  else if (args[i] === '--out') out = args[++i];
  else if (args[i] === '--help') {
    console.log('usage: node check.mjs --base URL --out DIR name=/path ...');
    process.exit(0);
  } else {
    const at = args[i].indexOf('=');
    pages.push({ name: args[i].slice(0, at), path: args[i].slice(at + 1) });
  }
}
if (!base || pages.length === 0) {
  console.error('usage: node check.mjs --base URL --out DIR name=/path ...');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

/** What a person sees on the open page. */
async function observe(page) {
  return page.evaluate(() => {
    const text = (sel) => {
      const el = document.querySelector(sel);
      return el ? el.innerText.trim() : null;
    };
    const evidence = document.getElementById('evidence-heading');
    const copy = document.querySelector('[data-copy-target]');
    const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    return {
      title: document.title,
      lang: document.documentElement.lang,
      h1: text('h1'),
      headings: [...document.querySelectorAll('h1, h2, h3')].map((h) => h.tagName),
      status: text('.status-label'),
      statusText: text('.status'),
      holder: text('.holder'),
      evidence: evidence ? evidence.parentElement.innerText : null,
      imagesLoaded: [...document.images].every((img) => img.complete && img.naturalWidth > 0),
      imagesWithoutAlt: [...document.images].filter((img) => !img.hasAttribute('alt')).length,
      copyButtonShown: copy ? shown(copy) : null,
      linkedin: document.getElementById('linkedin')?.href ?? null,
      pwned: typeof window.__pwned !== 'undefined',
      inlineScripts: document.querySelectorAll('script:not([src])').length,
      body: document.body.innerText,
    };
  });
}

let failed = false;
for (const { name, path } of pages) {
  const report = { name, path };
  try {
    // JavaScript on: the page as most people see it.
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const dialogs = [];
    const consoleErrors = [];
    page.on('dialog', async (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      await d.dismiss();
    });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    const res = await page.goto(base + path, { waitUntil: 'load' });
    report.httpStatus = res.status();
    report.csp = res.headers()['content-security-policy'] ?? null;
    Object.assign(report, await observe(page));
    await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
    await page.keyboard.press('Tab');
    report.firstTab = await page.evaluate(() => document.activeElement?.innerText ?? null);
    report.firstTabOutline = await page.evaluate(
      () => getComputedStyle(document.activeElement).outlineStyle,
    );
    report.dialogs = dialogs;
    report.consoleErrors = consoleErrors;
    await context.close();

    // JavaScript off: everything must still be there.
    const nojs = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 420, height: 900 },
    });
    const page2 = await nojs.newPage();
    await page2.goto(base + path, { waitUntil: 'load' });
    const seen = await page2.evaluate(() => ({
      status: document.querySelector('.status-label')?.innerText.trim() ?? null,
      holder: document.querySelector('.holder')?.innerText.trim() ?? null,
      shareUrl: document.getElementById('share-url')?.value ?? null,
      copyButtonShown: (() => {
        const b = document.querySelector('[data-copy-target]');
        return b ? b.getClientRects().length > 0 : null;
      })(),
    }));
    report.noJs = seen;
    await page2.screenshot({ path: join(out, `${name}-nojs.png`), fullPage: true });
    await nojs.close();
  } catch (e) {
    failed = true;
    report.error = String(e && e.stack ? e.stack : e);
  }
  console.log(JSON.stringify(report));
}
await browser.close();
process.exit(failed ? 1 : 0);

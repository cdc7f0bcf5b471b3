// The registry embed in headless Chromium, as a third-party site uses it. Driven by
// tests/registry_browser.rs:
//
//   node registry.mjs --url http://127.0.0.1:OTHER_PORT/ --out DIR
//
// Opens the host page (another origin than the service), waits for the embed to render,
// prints one JSON line describing what a person sees (names in the Shadow DOM, list
// semantics, link names, style isolation both ways, the iframe embed's text, dialogs,
// console errors) and saves DIR/registry-embed-N.png. Then, for each line "reload" read on
// stdin, it reloads the page and reports again; "quit" (or end of input) ends it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
let url = '';
let out = 'screenshots';
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--url') url = args[++i];
  else if (args[i] === '--out') out = args[++i];
  else if (args[i] === '--help') {
    console.log('usage: node registry.mjs --url HOST_PAGE --out DIR');
    process.exit(0);
  }
}
if (!url) {
  console.error('usage: node registry.mjs --url HOST_PAGE --out DIR');
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
const page = await browser.newPage({ viewport: { width: 900, height: 1000 } });
const dialogs = [];
const consoleErrors = [];
const requests = [];
page.on('dialog', async (d) => {
  dialogs.push(d.message());
  await d.dismiss();
});
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) consoleErrors.push(m.text());
});
const failedRequests = [];
page.on('response', (r) => {
  if (r.url().includes('/registry.json') || r.url().includes('/registry/embed')) {
    const inm = r.request().headers()['if-none-match'] || '-';
    requests.push(`${r.status()} ${new URL(r.url()).pathname} sent ${inm} got ${r.headers()['etag'] || '-'}`);
  }
  // A browser asks every origin for /favicon.ico; neither server has one.
  if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) failedRequests.push(`${r.status()} ${r.url()}`);
});

async function observe() {
  await page.waitForFunction(() => {
    const host = document.querySelector('[data-partnership-registry]');
    const root = host && host.shadowRoot;
    const status = root && root.querySelector('[role=status]');
    return root && (root.querySelector('ul') || (status && status.textContent !== 'Loading…'));
  }, null, { timeout: 15000 });
  // Attached frames only: after a reload the old frame may linger in page.frames().
  const frame = page.mainFrame().childFrames().find((f) => !f.isDetached() && f.url().includes('/registry/embed'));
  let frameText = null;
  if (frame) {
    await frame.waitForSelector('.registry-box', { timeout: 15000 }).catch(() => {});
    frameText = await frame.evaluate(() => document.body.innerText).catch(() => null);
  }
  const seen = await page.evaluate(() => {
    const host = document.querySelector('[data-partnership-registry]');
    const root = host.shadowRoot;
    const items = [...root.querySelectorAll('ul > li')];
    const first = items[0];
    const firstStyle = first ? getComputedStyle(first) : null;
    const outside = document.querySelector('.page-note');
    return {
      shadow: !!root,
      lightDomChildren: host.children.length,
      list: !!root.querySelector('ul'),
      // The visible name: the link's own text, without its visually hidden suffix.
      names: items.map((li) => {
        const a = li.querySelector('a');
        return a ? a.childNodes[0].textContent : li.querySelector('p').textContent;
      }),
      linkNames: items.map((li) => li.querySelector('a')?.textContent ?? null),
      links: items.map((li) => li.querySelector('a')?.href ?? null),
      injectedImages: root.querySelectorAll('img').length + document.querySelectorAll('img').length,
      pwned: typeof window.__pwned !== 'undefined',
      // The page styles `li` red and huge; inside the shadow root neither may apply.
      itemColor: firstStyle ? firstStyle.color : null,
      itemFontSize: firstStyle ? firstStyle.fontSize : null,
      // Our `.meta` / `p` rules must not reach the page's own `.page-note`.
      outsideColor: outside ? getComputedStyle(outside).color : null,
      outsideMargin: outside ? getComputedStyle(outside).marginTop : null,
      text: root.textContent,
    };
  });
  return { ...seen, frameText, dialogs: [...dialogs], consoleErrors: [...consoleErrors], failedRequests: [...failedRequests], registryStatuses: [...requests] };
}

let n = 0;
async function report() {
  n += 1;
  const seen = await observe();
  const shot = join(out, `registry-embed-${n}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(JSON.stringify({ step: n, screenshot: shot, ...seen }));
}

await page.goto(url, { waitUntil: 'load' });
await report();
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === 'reload') {
    await page.reload({ waitUntil: 'load' });
    await report();
  } else {
    break;
  }
}
await browser.close();

// The holder's page in headless Chromium, as a holder uses it. Driven by
// tests/holder_browser.rs:
//
//   node holder.mjs --base http://127.0.0.1:PORT --link SIGN_IN_LINK \
//     --holder EMAIL --stranger EMAIL --out DIR
//
// Walks the holder's journey and prints one JSON line per step (`"step": NAME`), each
// describing what a person sees; the test asserts on them:
//
//   signed-in   context A opens the emailed link: where it lands, the badges, the registry
//               choice, /registry.json; DIR/holder-me.png
//   wallet      A clicks "Add to wallet" on a badge: the wallet panel (QR code, deep link,
//               wallet link); DIR/wallet-panel.png
//   wallet-request  A asks for the credential-request link instead: a second panel
//   consented   A clicks "I agree" (#consent): the notice, /registry.json, /registry/embed
//   withdrawn   A clicks #withdraw: the same again
//   signed-out  context B (no cookies, no link) opens /me
//   login       two fresh contexts ask /me/login for a link, for the holder's address and
//               for a stranger's: the answer each one sees
//   reused      context B opens the link A already used
//   csp-probe   a deliberately blocked inline script, so the CSP listener is shown to work
//   done        every CSP violation, console error and failed request of the journey
//
// CSP violations are caught in every page by a `securitypolicyviolation` listener (an init
// script reporting through a Playwright binding) and by Chromium's console errors.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const USAGE = 'usage: node holder.mjs --base URL --link SIGN_IN_LINK --holder EMAIL --stranger EMAIL --out DIR';
const args = process.argv.slice(2);
const opt = { base: '', link: '', holder: '', stranger: '', out: 'screenshots' };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--help') {
    console.log(USAGE);
    process.exit(0);
  } else if (a.startsWith('--') && a.slice(2) in opt) {
    opt[a.slice(2)] = args[++i];
  } else {
    console.error(`unknown argument ${a}\n${USAGE}`);
    process.exit(2);
  }
}
if (!opt.base || !opt.link || !opt.holder || !opt.stranger) {
  console.error(USAGE);
  process.exit(2);
}
const base = opt.base.replace(/\/+$/, '');
mkdirSync(opt.out, { recursive: true });

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

// What went wrong anywhere in the journey (the CSP probe's context keeps its own lists).
function watcher() {
  return { csp: [], consoleErrors: [], failedRequests: [] };
}
const journey = watcher();

async function newContext(seen = journey) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 1200 } });
  await context.exposeBinding('__cspViolation', (source, v) => {
    seen.csp.push({ page: source.page ? source.page.url() : null, ...v });
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolation({
        directive: e.violatedDirective,
        blocked: e.blockedURI,
        sourceFile: e.sourceFile,
        line: e.lineNumber,
      });
    });
  });
  context.on('console', (m) => {
    // A page answered with an error status (the used link's 410) logs "Failed to load
    // resource"; those are judged from the responses below.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      seen.consoleErrors.push(`${m.location().url}: ${m.text()}`);
    }
  });
  context.on('weberror', (e) => seen.consoleErrors.push(`uncaught: ${e.error().message}`));
  context.on('response', (r) => {
    // A browser may ask for /favicon.ico; the service has none.
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) {
      seen.failedRequests.push(`${r.status()} ${new URL(r.url()).pathname}`);
    }
  });
  return context;
}

function report(step, fields) {
  console.log(JSON.stringify({ step, ...fields }));
}

// The visible text of the first match, or null at once when nothing matches (a locator
// would wait for it to appear).
async function text(page, selector) {
  const first = page.locator(selector).first();
  return (await first.count()) ? first.innerText() : null;
}
const count = (page, selector) => page.locator(selector).count();

// The names /registry.json lists now (fetched over the context's own HTTP client, so no
// browser cache is involved).
async function registryNames(context) {
  const r = await context.request.get(`${base}/registry.json`);
  const body = await r.json();
  return { status: r.status(), names: body.items.map((e) => e.name) };
}

// The iframe embed as a page of its own: the names it shows and all its text.
async function embed(page) {
  const r = await page.goto(`${base}/registry/embed`, { waitUntil: 'load' });
  const names = await page.$$eval('.registry-name a', (as) => as.map((a) => a.childNodes[0].textContent));
  return { status: r.status(), names, text: await page.locator('body').innerText() };
}

// What the signed-in page shows about the registry choice.
async function holderView(page) {
  return {
    url: page.url(),
    title: await page.title(),
    h1: await text(page, 'h1'),
    notice: await text(page, '.notice'),
    registryChoice: await text(page, '#registry-choice'),
    consentButton: await count(page, '#consent'),
    withdrawButton: await count(page, '#withdraw'),
  };
}

// ---- context A: the holder, signed in by the emailed link ----
const a = await newContext();
const me = await a.newPage();
const landed = await me.goto(opt.link, { waitUntil: 'load' });
const hop = landed.request().redirectedFrom();
const hopResponse = hop ? await hop.response() : null;
const images = await me.$$eval('.holder-badge-image', (imgs) =>
  imgs.map((i) => ({ alt: i.alt, src: i.src, loaded: i.complete && i.naturalWidth > 0 })));
const cookies = (await a.cookies(base)).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }));
const shot = join(opt.out, 'holder-me.png');
await me.screenshot({ path: shot, fullPage: true });
report('signed-in', {
  status: landed.status(),
  redirectedFrom: hop ? hop.url() : null,
  redirectStatus: hopResponse ? hopResponse.status() : null,
  cacheControl: landed.headers()['cache-control'] || null,
  csp: landed.headers()['content-security-policy'] || null,
  ...(await holderView(me)),
  badges: await me.locator('.holder-badge h3').allInnerTexts(),
  statuses: await me.locator('.holder-badge .status-label').allInnerTexts(),
  shareLinks: await me.$$eval('.share-url', (inputs) => inputs.map((i) => i.value)),
  linkedin: await count(me, '.holder-badge a[href^="https://www.linkedin.com/"]'),
  images,
  dataLink: await count(me, 'a#export[href="/me/data"]'),
  signOut: await count(me, '#sign-out'),
  cookies,
  registry: await registryNames(a),
  screenshot: shot,
});

// "Add to wallet" on the first badge: the wallet panel, then back to the page.
await Promise.all([me.waitForURL((u) => u.pathname === '/me/wallet'), me.click('.wallet-form button')]);
await me.waitForLoadState('load');
const panel = me.locator('#wallet-panel');
const walletShot = join(opt.out, 'wallet-panel.png');
await panel.screenshot({ path: walletShot });
const qr = await me.$$eval('#wallet-panel .wallet-qr svg', (svgs) =>
  svgs.map((s) => { const r = s.getBoundingClientRect(); return { width: r.width, height: r.height, label: s.getAttribute('aria-label') }; }));
report('wallet', {
  url: me.url(),
  h1: await text(me, 'h1'),
  qr,
  appLink: await me.getAttribute('#wallet-app-link', 'href'),
  requestButton: await count(me, '#wallet-request'),
  walletUrl: await me.inputValue('#wallet-url'),
  screenshot: walletShot,
});
// The fallback: a new exchange, offered as the wallet's credential-request link.
await Promise.all([me.waitForURL((u) => u.pathname === '/me/wallet'), me.click('#wallet-request')]);
await me.waitForLoadState('load');
report('wallet-request', {
  qr: await count(me, '#wallet-panel .wallet-qr svg'),
  appLink: await me.getAttribute('#wallet-app-link', 'href'),
  walletUrl: await me.inputValue('#wallet-url'),
  requestButton: await count(me, '#wallet-request'),
});
await me.goto(`${base}/me`, { waitUntil: 'load' });

// "I agree": listed at once, in the registry's JSON and in the embed.
await Promise.all([me.waitForURL((u) => u.pathname === '/me' && u.searchParams.get('done') === 'consent'), me.click('#consent')]);
await me.waitForLoadState('load');
const embedPage = await a.newPage();
report('consented', {
  ...(await holderView(me)),
  registry: await registryNames(a),
  embed: await embed(embedPage),
});
await me.screenshot({ path: join(opt.out, 'holder-me-listed.png'), fullPage: true });

// Withdraw: gone at once, from both, on the next request.
await Promise.all([me.waitForURL((u) => u.pathname === '/me' && u.searchParams.get('done') === 'withdrawn'), me.click('#withdraw')]);
await me.waitForLoadState('load');
report('withdrawn', {
  ...(await holderView(me)),
  registry: await registryNames(a),
  embed: await embed(embedPage),
});

// ---- context B: nobody signed in ----
const b = await newContext();
const other = await b.newPage();
const signedOut = await other.goto(`${base}/me`, { waitUntil: 'load' });
report('signed-out', {
  status: signedOut.status(),
  url: other.url(),
  h1: await text(other, 'h1'),
  main: await text(other, 'main'),
  emailField: await count(other, 'form[action="/me/login"] input#email'),
  badges: await count(other, '.holder-badge'),
  consentForms: await count(other, 'form[action="/me/consent"]'),
  sessionCookies: (await b.cookies(base)).filter((c) => c.name.includes('pb_holder')).length,
});

// ---- /me/login, for the holder and for a stranger, each from a fresh context ----
async function askForLink(email) {
  const context = await newContext();
  const page = await context.newPage();
  const form = await page.goto(`${base}/me/login`, { waitUntil: 'load' });
  await page.fill('#email', email);
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url() === `${base}/me/login` && r.request().method() === 'POST'),
    page.click('form[action="/me/login"] button[type=submit]'),
  ]);
  await page.waitForLoadState('load');
  const seen = {
    formStatus: form.status(),
    status: answer.status(),
    h1: await text(page, 'h1'),
    message: await text(page, '#message'),
    main: await text(page, 'main'),
    title: await page.title(),
    forms: await count(page, 'form'),
  };
  await context.close();
  return seen;
}
report('login', {
  holder: await askForLink(opt.holder),
  stranger: await askForLink(opt.stranger),
});

// ---- context B opens the link context A used ----
const reused = await other.goto(opt.link, { waitUntil: 'load' });
const reusedView = {
  status: reused.status(),
  url: other.url(),
  title: await other.title(),
  h1: await text(other, 'h1'),
  message: await text(other, '#message'),
  main: await text(other, 'main'),
  emailField: await count(other, 'form[action="/me/login"] input#email'),
};
await other.screenshot({ path: join(opt.out, 'holder-link-used.png'), fullPage: true });
const after = await other.goto(`${base}/me`, { waitUntil: 'load' });
report('reused', {
  ...reusedView,
  afterwards: { status: after.status(), h1: await text(other, 'h1'), badges: await count(other, '.holder-badge') },
  sessionCookies: (await b.cookies(base)).filter((c) => c.name.includes('pb_holder')).length,
});

// ---- the listener itself: an inline script, which the policy must block and report ----
const probeSeen = watcher();
const probe = await newContext(probeSeen);
const probePage = await probe.newPage();
await probePage.goto(`${base}/me/login`, { waitUntil: 'load' });
await probePage.evaluate(() => {
  const s = document.createElement('script');
  s.textContent = 'window.__inlineRan = true;';
  document.body.append(s);
});
await probePage.waitForTimeout(200);
report('csp-probe', {
  inlineRan: await probePage.evaluate(() => window.__inlineRan === true),
  ...probeSeen,
});
await probe.close();

report('done', journey);
await browser.close();

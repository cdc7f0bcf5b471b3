// The staff console in headless Chromium, as a program officer uses it. Driven by
// tests/console_browser.rs:
//
//   node console.mjs --base http://127.0.0.1:PORT --link SET_PASSWORD_LINK \
//     --password PASSWORD --csv IMPORT_FILE --out DIR
//
// Walks the journey and prints one JSON line per step (`"step": NAME`); the test asserts on
// them. Every page visited is checked with axe-core (WCAG 2.1 A and AA rules; serious and
// critical violations are reported) and for controls a keyboard cannot reach; every page's
// screenshot is DIR/console-<name>.png.
//
//   signed-in   the one-time link, the new password, the dashboard it lands on
//   recorded    a mentor, a person and a closing with a partner-fit assessment, by the forms
//   awarded     "Award Partnership Closed" from the closing page, by keyboard: the preview,
//               then signed
//   certified   "Certify" on the person: the preview, then signed
//   dashboard   the figures and charts with the person on them
//   revoked     the Certified revoked with a reason and a confirmation
//   imported    the CSV uploaded, its check, the progress bar seen moving, the report
//   lists       people, mentors and closings searched and filtered; the public home page
//   access      the tokens page and the audit log
//   signed-out  "Sign out", then the console asks to sign in again
//   done        axe violations, unreachable controls, CSP violations, console errors
import { readFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const USAGE = 'usage: node console.mjs --base URL --link SET_PASSWORD_LINK --password PASSWORD --csv FILE --out DIR';
const args = process.argv.slice(2);
const opt = { base: '', link: '', password: '', csv: '', out: 'screenshots' };
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
const here = dirname(fileURLToPath(import.meta.url));
// Loaded before the arguments are checked, so `--help` proves the package is installed.
const axeSource = readFileSync(join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
if (!opt.base || !opt.link || !opt.password || !opt.csv) {
  console.error(USAGE);
  process.exit(2);
}
const base = opt.base.replace(/\/+$/, '');
mkdirSync(opt.out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const seen = { csp: [], consoleErrors: [], failedRequests: [], axe: [], unreachable: [], pages: [] };
const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
await context.exposeBinding('__cspViolation', (source, v) => {
  seen.csp.push({ page: source.page ? source.page.url() : null, ...v });
});
await context.addInitScript(() => {
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolation({ directive: e.violatedDirective, blocked: e.blockedURI });
  });
});
context.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
    seen.consoleErrors.push(`${m.location().url}: ${m.text()}`);
  }
});
context.on('weberror', (e) => seen.consoleErrors.push(`uncaught: ${e.error().message}`));
context.on('response', (r) => {
  if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) {
    seen.failedRequests.push(`${r.status()} ${new URL(r.url()).pathname}`);
  }
});
const page = await context.newPage();

function report(step, fields) {
  console.log(JSON.stringify({ step, ...fields }));
}

// axe-core on the page as it is (evaluated through the DevTools protocol, so the page's
// CSP does not apply to it), and every visible control that a keyboard cannot focus.
async function check(name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  for (const v of result.violations) {
    if (v.impact === 'serious' || v.impact === 'critical') {
      seen.axe.push({ page: name, id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) });
    }
  }
  const unreachable = await page.evaluate(() => {
    const controls = document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary');
    return Array.from(controls)
      .filter((el) => {
        const r = el.getBoundingClientRect();
        const visible = r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
        return visible && (el.tabIndex < 0 || el.disabled);
      })
      .map((el) => el.outerHTML.slice(0, 120));
  });
  for (const u of unreachable) seen.unreachable.push({ page: name, control: u });
  const shot = join(opt.out, `console-${name}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  seen.pages.push(name);
  return shot;
}

const text = async (selector) => {
  const first = page.locator(selector).first();
  return (await first.count()) ? (await first.innerText()).trim() : null;
};
async function clickAndWait(locator) {
  await Promise.all([page.waitForLoadState('load'), page.waitForNavigation(), locator.click()]);
}

// ---- sign in: the one-time link sets the password ----
await page.goto(opt.link, { waitUntil: 'load' });
await check('set-password');
await page.getByLabel('New password').fill(opt.password);
await page.getByLabel('The same again').fill(opt.password);
await clickAndWait(page.getByRole('button', { name: 'Set password and sign in' }));
const cookies = (await context.cookies(base)).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }));
report('signed-in', { url: page.url(), h1: await text('h1'), cookies, screenshot: await check('dashboard-empty') });

// ---- records ----
await page.goto(`${base}/console/mentors/new`, { waitUntil: 'load' });
await page.getByLabel('Full name').fill('Maya Mentor');
await page.getByLabel('Email', { exact: true }).fill('not an email');
await clickAndWait(page.getByRole('button', { name: 'Save' }));
const mentorError = await text('#email-error');
await check('mentor-form-error');
await page.getByLabel('Email', { exact: true }).fill('maya@example.org');
await clickAndWait(page.getByRole('button', { name: 'Save' }));
await check('mentor');
await page.goto(`${base}/console/people/new`, { waitUntil: 'load' });
await page.getByLabel('Full name').fill('Grace Hopper');
await page.getByLabel('Email', { exact: true }).fill('grace@example.org');
await page.getByLabel('City').fill('Nairobi');
await page.getByLabel('Country').fill('Kenya');
await clickAndWait(page.getByRole('button', { name: 'Save' }));
const personUrl = page.url().split('?')[0];
await check('person-new');
await page.getByRole('link', { name: 'Record a closing' }).click();
await page.waitForLoadState('load');
await check('closing-form');
await page.getByLabel("Email of the mentor CC'd").fill('maya@example.org');
const yesterday = new Date(Date.now() - 86400000);
await page.getByLabel("When the mentor was CC'd (UTC)").fill(yesterday.toISOString().slice(0, 16));
await page.getByLabel('Partner organisation').fill('Nairobi Makers');
await page.getByLabel('Partner country').fill('Kenya');
await page.getByLabel('Closed on').fill(new Date().toISOString().slice(0, 10));
await page.getByLabel('Outcome').fill('A maker space now runs our clubs every week.');
const scores = await page.locator('select[name^="partner_fit."]').all();
for (const [i, s] of scores.entries()) await s.selectOption(String(3 - (i % 3)));
await page.getByLabel('Note on localisation').fill('Works in Swahili and English');
await clickAndWait(page.getByRole('button', { name: 'Save' }));
const closingUrl = page.url().split('?')[0];
report('recorded', {
  mentorError,
  closingUrl,
  notice: await text('.notice'),
  fitRows: await page.locator('#fit tbody tr').count(),
  fitNote: await text('#fit'),
  screenshot: await check('closing'),
});

// ---- award, by keyboard: Tab to the button, Enter ----
let focused = '';
for (let i = 0; i < 60 && focused !== 'Award Partnership Closed'; i++) {
  await page.keyboard.press('Tab');
  focused = await page.evaluate(() => (document.activeElement ? document.activeElement.textContent.trim() : ''));
}
await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
await page.waitForLoadState('load');
const preview = {
  url: page.url(),
  h1: await text('h1'),
  recipient: await text('#recipient'),
  evidence: await text('.preview-card ul'),
  screenshot: await check('award-preview'),
};
await clickAndWait(page.getByRole('button', { name: 'Sign and award' }));
report('awarded', { byKeyboard: focused, preview, url: page.url(), notice: await text('.notice'), badges: await text('.data-table tbody') });

// ---- certify ----
await page.goto(personUrl, { waitUntil: 'load' });
await clickAndWait(page.getByRole('link', { name: 'Certify' }));
const certifyPreview = await text('h1');
await check('certify-preview');
await clickAndWait(page.getByRole('button', { name: 'Sign and award' }));
report('certified', { preview: certifyPreview, notice: await text('.notice'), screenshot: await check('person') });

// ---- the dashboard ----
await page.goto(`${base}/console`, { waitUntil: 'load' });
const dash = {};
for (const id of ['closings-month', 'closings-quarter', 'closings-year', 'certified-people', 'queue-without-closed', 'queue-ready']) {
  dash[id] = await text(`#${id}`);
}
const charts = await page.$$eval('.chart', (cs) => cs.map((c) => ({
  title: c.querySelector('h3').textContent,
  bars: Array.from(c.querySelectorAll('rect')).filter((r) => Number(r.getAttribute('height')) > 0 && Number(r.getAttribute('width')) > 0).length,
  rows: c.querySelectorAll('tbody tr').length,
})));
// The data table is behind a closed disclosure: its cells' text, not what is rendered.
const countryRow = await page.$$eval('#closings-by-country-title ~ details tbody tr', (trs) =>
  trs.map((t) => Array.from(t.cells).map((c) => c.textContent.trim()).join('\t')));
const fitRow = await page.$$eval('#partner-fit tbody tr', (trs) => trs.map((t) => t.innerText).pop());
report('dashboard', { figures: dash, charts, countryRow, fitRow, screenshot: await check('dashboard') });

// ---- revoke the Certified: reason, confirmation ----
await page.goto(personUrl, { waitUntil: 'load' });
await clickAndWait(page.getByRole('link', { name: /Revoke Partnership Certified/ }));
await check('revoke');
await page.getByLabel(/Why/).fill('Certified by mistake');
await clickAndWait(page.getByRole('button', { name: 'Continue' }));
const question = await text('#confirm-question');
await check('revoke-confirm');
await clickAndWait(page.getByRole('button', { name: 'Yes, revoke it' }));
report('revoked', { question, notice: await text('.notice'), statuses: await page.locator('.status-tag').allInnerTexts() });

// ---- import ----
await page.goto(`${base}/console/import`, { waitUntil: 'load' });
await check('import');
await page.getByLabel('What the file holds').selectOption('people');
await page.getByLabel('CSV file (with a header row)').setInputFiles(opt.csv);
await clickAndWait(page.getByRole('button', { name: 'Check the file' }));
const checkPage = { headerOk: await text('#header-ok'), firstRows: await page.locator('.data-table tbody tr').count() };
await check('import-check');
const runButton = page.getByRole('button', { name: /^Import \d+ rows$/ });
checkPage.button = (await runButton.innerText()).trim();
await Promise.all([page.waitForNavigation(), runButton.click()]);
// The bar while it runs: its values as the page's script moves it.
const progress = [];
while (await page.locator('#import-progress').count()) {
  const v = await page.evaluate(() => {
    const p = document.getElementById('import-progress');
    return p ? { value: p.value, max: p.max, visible: p.getBoundingClientRect().width > 0 } : null;
  }).catch(() => null);
  if (v) progress.push(v);
  if (progress.length === 1) await page.screenshot({ path: join(opt.out, 'console-import-progress.png') });
  await page.waitForTimeout(100);
}
await page.waitForSelector('#import-summary');
const badRows = await page.$$eval('#bad-rows tbody tr', (trs) => trs.map((t) => t.innerText));
const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download the report (CSV)' }).click()]);
const reportCsv = readFileSync(await download.path(), 'utf8');
report('imported', { check: checkPage, progress, summary: await text('#import-summary'), badRows, reportCsv, screenshot: await check('import-report') });

// ---- the lists, searched and filtered ----
const lists = {};
for (const [name, path] of [
  ['people', '/console/people?q=grace'],
  ['mentors', '/console/mentors'],
  ['closings', '/console/closings?country=Kenya&badge=with-closed'],
]) {
  await page.goto(`${base}${path}`, { waitUntil: 'load' });
  lists[name] = await page.locator('table.records tbody tr').count();
  await check(`list-${name}`);
}
await page.goto(`${base}/`, { waitUntil: 'load' });
await check('home');
report('lists', lists);

// ---- tokens and the audit log ----
await page.goto(`${base}/console/tokens`, { waitUntil: 'load' });
const tokensH1 = await text('h1');
await check('tokens');
await page.goto(`${base}/console/audit?staff=${encodeURIComponent('ann@example.org')}`, { waitUntil: 'load' });
const auditRows = await page.locator('.data-table tbody tr').count();
const auditActions = await page.$$eval('.data-table tbody tr td:nth-child(3)', (tds) => tds.map((t) => t.innerText));
await check('audit');
await page.goto(`${base}/console/account`, { waitUntil: 'load' });
await check('account');
report('access', { tokensH1, auditRows, auditActions });

// ---- sign out ----
await clickAndWait(page.getByRole('button', { name: 'Sign out', exact: true }));
const afterUrl = page.url();
const notice = await text('#message');
await check('sign-in');
await page.goto(`${base}/console`, { waitUntil: 'load' });
report('signed-out', { afterUrl, notice, then: page.url() });

report('done', seen);
await browser.close();

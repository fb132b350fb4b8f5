// Drives the UI in headless Chromium against a running `sightline serve`
// (crates/server/tests/ui_browser.rs starts it): every page loads without
// console errors, a query typed in the editor draws as many series as the
// API returns, and a bad query shows the API's message. Screenshots go to OUTDIR.
//
// usage: node tests/browser.mjs BASE_URL OUTDIR QUERY
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, outDir, query] = process.argv.slice(2);
if (!base || !outDir || !query) {
  console.error('usage: node tests/browser.mjs BASE_URL OUTDIR QUERY');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
// A stuck step fails the test instead of hanging it.
setTimeout(() => {
  console.error('browser test: timed out after 120 s');
  process.exit(1);
}, 120_000).unref();
const step = (s) => console.log(`step: ${s}`);
const fail = (msg) => {
  throw new Error(msg);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  if (process.env.DEBUG) page.on('request', (r) => console.log(`request: ${r.method()} ${r.url()}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.setDefaultTimeout(15_000);
  const shot = (name) => page.screenshot({ path: `${outDir}/${name}.png`, fullPage: true });

  // Every page of the shell.
  await page.goto(`${base}/`);
  await page.waitForSelector('nav.nav');
  await shot('home');
  for (const p of ['dashboards', 'alerts', 'slos', 'uptime', 'ops', 'logs', 'traces']) {
    await page.goto(`${base}/#/${p}?from=now-1h&to=now`);
    await page.waitForSelector('.placeholder h1');
    await shot(p);
  }

  step('explore: type and run');
  // A query typed in the editor, run with Enter, drawn as a graph.
  await page.goto(`${base}/#/explore?from=now-5m&to=now`);
  await page.waitForSelector('.cm-content');
  await page.click('.cm-content');
  await page.keyboard.type(query, { delay: 10 });
  step('typed');
  await page.keyboard.press('Escape'); // close completion, so Enter runs
  const respP = page.waitForResponse((r) => r.url().endsWith('/api/v1/query_range'));
  await page.keyboard.press('Enter');
  step('enter');
  const resp = await respP;
  const uiJson = await resp.json();
  // The same request, made outside the browser.
  const again = await fetch(`${base}/api/v1/query_range`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: resp.request().postData(),
  }).then((r) => r.json());
  const want = again.data.result.length;
  if (want < 2) fail(`query ${query} should return several series, API returned ${want}`);
  if (uiJson.data.result.length !== want) fail(`UI got ${uiJson.data.result.length} series, API ${want}`);
  step('graph');
  await page.waitForSelector('.chart canvas');
  const drawn = await page.$$eval('.chart .u-legend .u-series', (e) => e.length - 1);
  if (drawn !== want) fail(`graph draws ${drawn} series, API returned ${want}`);
  const url = page.url();
  if (!url.includes('expr=')) fail(`query not kept in the URL: ${url}`);
  await page.mouse.move(640, 250);
  await shot('explore-graph');

  step('table and json');
  // Table and JSON views of the same query.
  await page.click('button.tab:has-text("Table")');
  await page.waitForSelector('table.result');
  const rows = await page.$$eval('table.result tbody tr', (e) => e.length);
  if (rows !== want) fail(`table shows ${rows} rows, want ${want}`);
  await shot('explore-table');
  await page.click('button.tab:has-text("JSON")');
  await page.waitForSelector('pre.json');
  await shot('explore-json');

  step('completion');
  // Completion of metric names from the API: a prefix offers the metric.
  await page.click('button.tab:has-text("Graph")');
  await page.click('.cm-content');
  await page.keyboard.press('Control+a');
  await page.keyboard.type(query.slice(0, -4), { delay: 20 });
  const option = page.locator('.cm-tooltip-autocomplete li', { hasText: query });
  await option.first().waitFor();
  await shot('explore-completion');
  await page.keyboard.press('Escape');

  step('error');
  const BAD = 'sum(up) +';
  // A bad query: the API's message on the page.
  await page.click('.cm-content');
  await page.keyboard.press('Control+a');
  // (Not an unclosed bracket: the editor closes brackets as you type.)
  await page.keyboard.type(BAD, { delay: 10 });
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.error');
  const apiErr = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(BAD)}`).then((r) => r.json());
  const shown = await page.textContent('.error');
  if (!shown.includes(apiErr.error)) fail(`error shown ${JSON.stringify(shown)} lacks the API's ${JSON.stringify(apiErr.error)}`);
  await shot('explore-error');

  // Bad-query 400s are logged by Chromium as failed resources; only
  // script errors and unexpected failures count.
  const real = problems.filter((p) => !/status of 400/.test(p));
  if (real.length) fail(`problems in the browser:\n${real.join('\n')}`);
  console.log(`ok: ${want} series drawn; screenshots in ${outDir}`);
} finally {
  await browser.close();
}

// Explore: a query typed in the editor returns the API's answer and draws
// as many series as it holds; table, JSON, completion, errors.
const QUERY = 'sightline_tsdb_head_series'; // two self-scrape jobs: two series

export default async function ({ page, base, step, shot, fail, allow }) {
  // Bad-query 400s are logged by Chromium as failed resources.
  allow.push(/status of 400/);

  step('type and run');
  await page.goto(`${base}/#/explore?from=now-5m&to=now`);
  await page.waitForSelector('.cm-content');
  await page.click('.cm-content');
  await page.keyboard.type(QUERY, { delay: 10 });
  await page.keyboard.press('Escape'); // close completion, so Enter runs
  const respP = page.waitForResponse((r) => r.url().endsWith('/api/v1/query_range'));
  await page.keyboard.press('Enter');
  const resp = await respP;
  const uiJson = await resp.json();
  // The same request, made outside the browser.
  const again = await fetch(`${base}/api/v1/query_range`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: resp.request().postData(),
  }).then((r) => r.json());
  const want = again.data.result.length;
  if (want < 2) fail(`query ${QUERY} should return several series, API returned ${want}`);
  if (uiJson.data.result.length !== want) fail(`UI got ${uiJson.data.result.length} series, API ${want}`);

  step('graph');
  await page.waitForSelector('.chart canvas');
  const drawn = await page.$$eval('.chart .legend .series', (e) => e.length);
  if (drawn !== want) fail(`graph draws ${drawn} series, API returned ${want}`);
  const url = page.url();
  if (!url.includes('expr=')) fail(`query not kept in the URL: ${url}`);
  await page.mouse.move(640, 250);
  await shot('explore-graph');

  step('table and json');
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
  await page.keyboard.type(QUERY.slice(0, -4), { delay: 20 });
  await page.locator('.cm-tooltip-autocomplete li', { hasText: QUERY }).first().waitFor();
  await shot('explore-completion');
  await page.keyboard.press('Escape');

  step('exemplars');
  // A metric with an exemplar (OTLP/HTTP JSON, as an SDK sends it): the
  // graph lists it with a link to its trace (docs/web.md, link scheme).
  const TRACE = '5b8efff798038103d269b633813fc60c';
  const nowNs = `${Date.now()}000000`;
  const point = { timeUnixNano: nowNs, asDouble: 0.42, exemplars: [{ timeUnixNano: nowNs, asDouble: 0.42, traceId: TRACE, spanId: 'eee19b7ec3c1b174' }] };
  const otlp = {
    resourceMetrics: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop' } }] }, scopeMetrics: [{ metrics: [{ name: 'checkout_latency', unit: 's', gauge: { dataPoints: [point] } }] }] }],
  };
  const pushed = await fetch(`${base}/v1/metrics`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(otlp) });
  if (!pushed.ok) fail(`OTLP push: ${pushed.status} ${await pushed.text()}`);
  await page.goto(`${base}/#/explore?from=now-5m&to=now&expr=checkout_latency_seconds&exemplars=1`);
  const link = page.locator(`table.exemplars a[href*="#/traces/${TRACE}"]`);
  await link.waitFor();
  await shot('explore-exemplars');

  step('error');
  // A bad query: the API's message on the page. (Not an unclosed bracket:
  // the editor closes brackets as you type.)
  const BAD = 'sum(up) +';
  await page.click('.cm-content');
  await page.keyboard.press('Control+a');
  await page.keyboard.type(BAD, { delay: 10 });
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.error');
  const apiErr = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(BAD)}`).then((r) => r.json());
  const shown = await page.textContent('.error');
  if (!shown.includes(apiErr.error)) fail(`error shown ${JSON.stringify(shown)} lacks the API's ${JSON.stringify(apiErr.error)}`);
  await shot('explore-error');
}

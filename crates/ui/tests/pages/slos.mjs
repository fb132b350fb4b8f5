// SLOs: the list and one SLO's page show the API's figures; the burn-rate
// chart draws one line per recorded window, the burn-down one line. The
// fixture's SLO `scrape-availability` burns (a third of the targets is
// down), so its figures move between two fetches: a figure on the page must
// equal the API's as fetched just before or just after reading it.
const pct = (v, d = 1) => (v == null ? '-' : `${(v * 100).toFixed(d)}%`);
const burn = (v) => (v == null ? '-' : `${v.toFixed(2)}x`);
const current = (s) => s.burn_rates.find((b) => b.window === '5m')?.burn_rate ?? null;
const ID = 'sightline-scrape-availability';

export default async function ({ page, base, step, shot, fail, api }) {
  const slo = async () => {
    const r = await api('api/v1/slos');
    const s = r.data.find((x) => x.id === ID);
    if (!s) fail(`no SLO ${ID} in ${JSON.stringify(r)}`);
    return s;
  };
  // The page's figures come from its one fetch of /api/v1/slos, made
  // between `before` and `after` (fetched outside the browser): a burning
  // budget moves, so a figure must lie between the two (to its rounding).
  let before, after;
  // (The page refetches every 30 s: the API's answer as of now bounds a
  // refetched figure.)
  const sameAsApi = async (sel, want, what) => {
    const shown = (await page.textContent(sel)).trim();
    const seen = [want(before), want(after), want(await slo())];
    const nums = seen.map(parseFloat);
    const [x, lo, hi] = [parseFloat(shown), Math.min(...nums), Math.max(...nums)];
    const unit = shown.endsWith('%') ? 0.1 : 0.01;
    if (!seen.includes(shown) && !(x >= lo - unit && x <= hi + unit))
      fail(`${what}: page shows ${shown}, API ${seen[0]} before the page loaded, ${seen[1]} after, ${seen[2]} now`);
    return shown;
  };

  step('list');
  before = await slo();
  await page.goto(`${base}/#/slos?from=now-15m&to=now`);
  await page.waitForSelector(`tr.slo[data-id="${ID}"]`);
  after = await slo();
  const all = (await api('api/v1/slos')).data;
  const rows = await page.$$eval('tr.slo', (e) => e.length);
  if (rows !== all.length) fail(`list shows ${rows} SLOs, API has ${all.length}`);
  const row = `tr.slo[data-id="${ID}"]`;
  await sameAsApi(`${row} td.budget`, (s) => pct(s.budget_remaining), 'budget left');
  await sameAsApi(`${row} td.burn`, (s) => burn(current(s)), 'burn rate');
  const obj = (await page.textContent(`${row} td.objective`)).trim();
  if (obj !== '99%') fail(`objective shows ${obj}, want 99%`);
  const s0 = await slo();
  if (!(s0.budget_spent > 0)) fail(`the fixture's budget should burn: ${JSON.stringify(s0)}`);
  const colour = await page.getAttribute(`${row} .dot`, 'class');
  if (!/warn|bad/.test(colour)) fail(`a burning SLO is shown ${colour}`);
  await shot('slos-list');

  step('one SLO');
  await page.click(`${row} a`);
  await page.waitForSelector('.slo-detail');
  if (!page.url().includes('#/slos/scrape-availability')) fail(`link went to ${page.url()}`);
  await sameAsApi('[data-stat="budget left"] .value', (s) => pct(s.budget_remaining), 'budget left stat');
  await sameAsApi('[data-stat="burn rate (5m)"] .value', (s) => burn(current(s)), 'burn rate stat');

  step('burn-rate chart');
  await page.waitForSelector('.burn-rates .chart canvas');
  const lines = await page.$$eval('.burn-rates .chart .legend .series', (e) => e.length);
  const windows = (await slo()).burn_rates.length;
  // The same query outside the browser.
  const now = Math.floor(Date.now() / 1000);
  const q = new URLSearchParams({
    query: `{__name__=~"slo:sli_error:ratio_rate.+", sloth_id="${ID}"} / ${s0.error_budget}`,
    start: String(now - 900),
    end: String(now),
    step: '4',
  });
  const outside = await fetch(`${base}/api/v1/query_range?${q}`).then((r) => r.json());
  const want = outside.data.result.length;
  if (want !== windows) fail(`recordings of ${want} windows, the API reports ${windows}`);
  if (lines !== want) fail(`burn-rate chart draws ${lines} lines, want ${want} (one per window)`);
  const names = await page.$$eval('.burn-rates .chart .legend .series td:first-child', (e) => e.map((x) => x.textContent));
  if (!names.some((n) => n.endsWith('burn rate 5m')) || !names.some((n) => n.endsWith('burn rate 30d')))
    fail(`burn-rate legend ${names}`);

  step('burn-down chart');
  await page.waitForSelector('.burn-down .chart canvas');
  const bd = await page.$$eval('.burn-down .chart .legend .series', (e) => e.length);
  if (bd !== 1) fail(`burn-down draws ${bd} lines, want 1`);
  // Its last value is the budget left: close to the API's once the API
  // measures how much of the window has data (it cannot in the first
  // minute, and then takes the ratio for the whole window). The chart
  // samples the 5m ratio, the API counts data time to the minute: they
  // agree to about half of what was spent.
  const t0 = Date.now();
  while ((await slo()).data_seconds == null) {
    if (Date.now() - t0 > 120_000) fail(`the API never measured the SLO's data: ${JSON.stringify(await slo())}`);
    await page.waitForTimeout(2000);
  }
  await page.reload();
  await page.waitForSelector('.burn-down .chart canvas');
  const apiA = (await slo()).budget_remaining;
  // The chart is in percent.
  const last = parseFloat(await page.textContent('.burn-down .chart .legend .series td:last-child')) / 100;
  const apiB = (await slo()).budget_remaining;
  const near = (a) => Math.abs(last - a) <= 0.5 * Math.abs(1 - a) + 0.001;
  if (!(near(apiA) || near(apiB))) fail(`burn-down ends at ${last}, the API says ${apiA} then ${apiB} left`);
  if (!(last < 1)) fail(`a burning budget's burn-down ends at ${last}`);
  await shot('slos-detail');

  step('unknown SLO');
  await page.goto(`${base}/#/slos/nothing-here`);
  await page.waitForSelector('.placeholder h1');
  const t = await page.textContent('.placeholder h1');
  if (!t.includes('No SLO nothing-here')) fail(`unknown SLO shows ${t}`);
}

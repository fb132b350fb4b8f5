// Events: every tab of the analytics section, each checked against the
// API's answer to the same question (fetched outside the browser). The
// page's time range is set around the newest stored event, so the module
// works on any corpus that has signup, login, add_to_cart, purchase and
// experiment_viewed (with properties.variant) events, as the analytics
// corpus (crates/server/tests/events_analytics/corpus.rs) has.
const DAY = 86_400_000;
const pct = (v, d = 1) => (v == null ? '-' : `${(v * 100).toFixed(d)}%`);

export default async function ({ page, base, step, shot, fail, api }) {
  const post = (path, body) =>
    api(`api/v1/events/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).then((r) => {
      if (r.status !== 'success') fail(`${path}: ${JSON.stringify(r)}`);
      return r.data;
    });
  const newest = (await api(`api/v1/events/list?start=0&end=${Date.now() / 1000 + 366 * 86400}&limit=1`)).data.events[0];
  if (!newest) fail('no events stored');
  const to = Math.ceil(newest.timestampMs / DAY) * DAY + DAY;
  const from = to - 70 * DAY;
  const range = { start: from / 1000, end: to / 1000 };
  const url = (tab) => `${base}/#/events/${tab}?from=${from}&to=${to}`;
  const cells = (sel) => page.$$eval(sel, (e) => e.map((x) => x.textContent.trim()));
  const names = (await api(`api/v1/events/names?start=${range.start}&end=${range.end}`)).data.map((n) => n.name);
  for (const n of ['signup', 'login', 'add_to_cart', 'purchase', 'experiment_viewed'])
    if (!names.includes(n)) fail(`the corpus has no ${n} events: ${names}`);

  step('trends');
  await page.goto(url('trends'));
  await page.waitForSelector('table.trends tbody tr');
  await page.waitForSelector('.chart canvas');
  let want = await post('query', { ...range, step: 'day', events: [names[0]], breakdown: null, limit: 8 });
  let row = await cells('table.trends tbody tr:first-child td');
  if (row[0] !== names[0] || row[1] !== String(want.series[0].total) || row[2] !== String(want.series[0].total_people))
    fail(`trends row ${row}, API ${JSON.stringify(want.series[0]).slice(0, 200)}`);
  await page.selectOption('select[aria-label="Event"]', 'purchase');
  await page.selectOption('select[aria-label="Breakdown"]', 'properties.plan');
  want = await post('query', { ...range, step: 'day', events: ['purchase'], breakdown: 'properties.plan', limit: 8 });
  await page.waitForFunction((n) => document.querySelectorAll('table.trends tbody tr').length === n && document.querySelector('table.trends td')?.textContent.includes('·'), want.series.length);
  const shown = await cells('table.trends tbody tr td:nth-child(2)');
  const totals = want.series.map((s) => String(s.total));
  if (shown.join() !== totals.join()) fail(`breakdown totals ${shown}, API ${totals}`);
  const lines = await page.$$eval('.chart .legend .series', (e) => e.length);
  if (lines !== want.series.length) fail(`chart draws ${lines} lines, want ${want.series.length}`);
  await shot('events-trends');

  step('active users');
  await page.click('a.tab:has-text("Active users")');
  await page.waitForSelector('table.active-days tbody tr');
  const active = await post('active_users', { ...range, events: [] });
  const last = active.days[active.days.length - 1];
  for (const [label, v] of [['DAU (last day)', last.dau], ['WAU', last.wau], ['MAU', last.mau], ['stickiness', pct(last.stickiness)]]) {
    const got = (await page.textContent(`[data-stat="${label}"] .value`)).trim();
    if (got !== String(v)) fail(`${label} shows ${got}, API ${v}`);
  }
  const rows = await page.$$eval('table.active-days tbody tr', (e) => e.length);
  if (rows !== active.days.length) fail(`${rows} day rows, API ${active.days.length} days`);
  await shot('events-active');

  step('funnels');
  await page.click('a.tab:has-text("Funnels")');
  await page.waitForSelector('table.funnel tbody tr');
  await page.selectOption('select[aria-label="Step 1"]', 'signup');
  await page.selectOption('select[aria-label="Step 2"]', 'add_to_cart');
  await page.click('button:has-text("+ step")');
  await page.selectOption('select[aria-label="Step 3"]', 'purchase');
  await page.fill('input[aria-label="Conversion window"]', '3d');
  await page.press('input[aria-label="Conversion window"]', 'Tab');
  const funnel = await post('funnel', { ...range, window: '3d', steps: [{ event: 'signup' }, { event: 'add_to_cart' }, { event: 'purchase' }] });
  const wantPeople = funnel.steps.map((s) => String(s.people)).join();
  await page.waitForFunction((w) => [...document.querySelectorAll('table.funnel tbody tr td:nth-child(2)')].map((x) => x.textContent).join() === w, wantPeople).catch(async () =>
    fail(`funnel people ${await cells('table.funnel tbody tr td:nth-child(2)')}, API ${wantPeople}`),
  );
  const fromFirst = await cells('table.funnel tbody tr td:nth-child(4)');
  if (fromFirst.join() !== funnel.steps.map((s) => pct(s.conversion_from_first)).join()) fail(`conversion from first ${fromFirst}`);
  const bars = await page.$$eval('.funnel-bar', (e) => e.length);
  if (bars !== 3) fail(`${bars} funnel bars, want 3`);
  await shot('events-funnel');

  step('retention');
  await page.click('a.tab:has-text("Retention")');
  await page.selectOption('select[aria-label="Cohort: first"]', 'signup');
  await page.selectOption('select[aria-label="Came back: did"]', 'login');
  await page.selectOption('select[aria-label="Period"]', 'week');
  const ret = await post('retention', { ...range, cohort_event: 'signup', return_event: 'login', period: 'week' });
  const sizes = ret.cohorts.map((c) => String(c.size)).join();
  await page.waitForFunction((w) => [...document.querySelectorAll('table.retention tbody tr td:nth-child(2)')].map((x) => x.textContent).join() === w, sizes).catch(async () =>
    fail(`cohort sizes ${await cells('table.retention tbody tr td:nth-child(2)')}, API ${sizes}`),
  );
  const first = ret.cohorts.find((c) => c.size > 0 && c.share.length > 1);
  const idx = ret.cohorts.indexOf(first);
  const cell = (await cells(`table.retention tbody tr:nth-child(${idx + 1}) td.cell-share`))[1];
  if (cell !== pct(first.share[1])) fail(`week 1 of cohort ${idx} shows ${cell}, API ${pct(first.share[1])}`);
  const shaded = await page.$$eval('table.retention td.cell-share', (e) => e.filter((x) => x.style.background.includes('rgba')).length);
  if (!shaded) fail('retention cells are not shaded');
  await shot('events-retention');

  step('A/B test');
  await page.click('a.tab:has-text("A/B tests")');
  await page.selectOption('select[aria-label="Exposure event"]', 'experiment_viewed');
  await page.selectOption('select[aria-label="Variant property"]', 'properties.variant');
  await page.selectOption('select[aria-label="Conversion event"]', 'purchase');
  await page.fill('input[aria-label="Window"]', '7d');
  await page.press('input[aria-label="Window"]', 'Tab');
  const ab = await post('abtest', { ...range, window: '7d', exposure_event: 'experiment_viewed', variant_property: 'properties.variant', conversion_event: 'purchase' });
  const exposed = ab.variants.map((v) => String(v.exposed)).join();
  await page.waitForFunction((w) => [...document.querySelectorAll('table.abtest tbody tr td:nth-child(2)')].map((x) => x.textContent).join() === w, exposed).catch(async () =>
    fail(`exposed ${await cells('table.abtest tbody tr td:nth-child(2)')}, API ${exposed}`),
  );
  // Exposure does not depend on the window: wait until the 7d answer
  // (not the 14d default's) is drawn, by the control's interval.
  const wantCi = `${pct(ab.variants[0].ci_low, 2)} – ${pct(ab.variants[0].ci_high, 2)}`;
  await page.waitForFunction((w) => document.querySelector('table.abtest tbody tr:first-child td:nth-child(5)')?.textContent.trim() === w, wantCi).catch(async () =>
    fail(`interval ${await cells('table.abtest tbody tr:first-child td:nth-child(5)')}, API ${wantCi} (window 7d)`),
  );
  const pv = await cells('table.abtest tbody tr td:nth-child(7)');
  const fmtP = (p) => (p == null ? '-' : p < 0.0001 ? '< 0.0001' : p.toFixed(4));
  if (pv.join() !== ab.variants.map((v) => fmtP(v.p_value)).join()) fail(`p-values ${pv}`);
  const verdict = (await page.textContent('.verdict')).trim();
  const sig = ab.variants[1].significant;
  if (sig !== /is significant/.test(verdict) || (!sig && !/not significant/.test(verdict))) fail(`verdict "${verdict}" but significant=${sig}`);
  await shot('events-abtest');

  step('event list');
  await page.click('a.tab:has-text("Event list")');
  await page.waitForSelector('table.event-list tbody tr');
  const listed = await post_list();
  async function post_list() {
    return (await api(`api/v1/events/list?start=${range.start}&end=${range.end}&limit=50`)).data;
  }
  const firstRow = await cells('table.event-list tbody tr:first-child td');
  if (firstRow[1] !== listed.events[0].name) fail(`newest event shows ${firstRow}, API ${listed.events[0].name}`);
  const n = await page.$$eval('table.event-list tbody tr', (e) => e.length);
  if (n !== listed.events.length) fail(`${n} rows, API ${listed.events.length}`);
  await page.click('button:has-text("Older")');
  await page.waitForFunction((t) => document.querySelector('table.event-list tbody tr td')?.textContent !== t, firstRow[0]);
  await shot('events-list');
}

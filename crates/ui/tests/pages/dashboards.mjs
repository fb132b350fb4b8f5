// Dashboards as a person uses them: Grafana's Node Exporter Full imported
// through the Import page renders every panel over Debian's node exporter
// (with data, or saying why not); the HAProxy dashboard (no HAProxy here)
// says why for each panel; a service's generated golden-signals dashboard
// draws its series; a dashboard made in the UI (new, add panel, query,
// save) is stored by the API (ui_browser.rs restarts the server and finds
// it again).
import { readFileSync } from 'node:fs';

/// Opens every collapsed row and scrolls through so every panel loads,
/// then waits until no panel is loading.
async function loadAll(page) {
  for (let i = 0; i < 40; i++) {
    const r = await page.$('.row-head:has(.caret:text("▸"))');
    if (!r) break;
    await r.click();
  }
  const h = await page.evaluate(() => document.body.scrollHeight);
  for (let y = 0; y < h; y += 600) {
    await page.evaluate((y) => window.scrollTo(0, y), y);
    await page.waitForTimeout(60);
  }
  await page.waitForFunction(() => ![...document.querySelectorAll('.panel')].some((p) => p.getAttribute('data-state') === 'loading'), null, { timeout: 60000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  return page.$$eval('.panel', (ps) =>
    ps.map((p) => ({ type: p.getAttribute('data-type'), state: p.getAttribute('data-state'), title: p.querySelector('.panel-title')?.textContent, text: p.querySelector('.panel-body')?.textContent?.slice(0, 300) })),
  );
}

async function importDashboard(page, base, file) {
  await page.goto(`${base}/#/dashboards/import`);
  // As a person imports a downloaded file: the file picker.
  await page.setInputFiles('.import input[type=file]', file);
  await page.waitForFunction(() => document.querySelector('#import-json').value.length > 0);
  await page.click('#import');
  await page.waitForSelector('.dashboard .panel, .dashboard .row-head');
}

export default async function ({ page, base, step, shot, fail, api }) {
  const shared = process.env.SHARED_DASHBOARDS;
  if (!shared) fail('SHARED_DASHBOARDS (the folder of Grafana peer dashboards) is not set');

  step('Node Exporter Full: import and render');
  await importDashboard(page, base, `${shared}/node-exporter-full.json`);
  await page.waitForSelector('select#var-node option', { state: 'attached' });
  const panels = await loadAll(page);
  await shot('dashboards-node-exporter-full');
  const want = JSON.parse(readFileSync(`${shared}/node-exporter-full.json`, 'utf8'));
  const count = (ps) => ps.reduce((n, p) => n + (p.type === 'row' ? count(p.panels ?? []) : 1), 0);
  const wantPanels = count(want.panels);
  if (panels.length !== wantPanels) fail(`Node Exporter Full: ${panels.length} panels drawn, the dashboard has ${wantPanels}`);
  const bad = panels.filter((p) => !['data', 'nodata'].includes(p.state));
  if (bad.length) fail(`panels neither with data nor saying why:\n${bad.map((p) => `${p.title}: ${p.state}: ${p.text}`).join('\n')}`);
  const silent = panels.filter((p) => p.state === 'nodata' && !/No data for/.test(p.text));
  if (silent.length) fail(`panels without data that do not say which query: ${silent.map((p) => p.title)}`);
  const withData = panels.filter((p) => p.state === 'data').length;
  // The node exporter of a container lacks some collectors (hwmon,
  // systemd, ...); the CPU, memory, disk and network panels have data.
  if (withData < wantPanels * 0.6) fail(`only ${withData} of ${wantPanels} panels have data`);
  for (const t of ['CPU Busy', 'RAM Used', 'CPU Basic', 'Memory Basic', 'Network Traffic Basic']) {
    const p = panels.find((x) => x.title === t);
    if (p?.state !== 'data') fail(`panel ${t}: ${p?.state}`);
  }
  step(`node exporter full: ${withData} of ${wantPanels} panels with data`);

  step('HAProxy: every panel says why it has no data');
  await importDashboard(page, base, `${shared}/haproxy.json`);
  const hp = await loadAll(page);
  await shot('dashboards-haproxy');
  const hpBad = hp.filter((p) => !['data', 'nodata'].includes(p.state));
  if (hpBad.length) fail(`HAProxy panels neither with data nor saying why:\n${hpBad.map((p) => `${p.title}: ${p.state}: ${p.text}`).join('\n')}`);

  step('list');
  await page.goto(`${base}/#/dashboards`);
  await page.waitForSelector('.dash-items a');
  const titles = await page.$$eval('.dash-items a', (as) => as.map((a) => a.textContent));
  for (const t of ['Node Exporter Full', 'shop: golden signals']) if (!titles.some((x) => x.includes(t))) fail(`list lacks ${t}: ${titles}`);
  await shot('dashboards-list');

  step('golden signals of a service');
  await page.click('a:has-text("shop: golden signals")');
  await page.waitForSelector('.panel');
  const golden = await loadAll(page);
  await shot('dashboards-golden');
  const rate = golden.find((p) => p.title === 'Request rate by status');
  if (rate?.state !== 'data') fail(`golden request rate: ${JSON.stringify(rate)}`);
  const codes = await api(`api/v1/query?query=${encodeURIComponent('count by (code) (http_requests_total{job="shop"})')}`);
  const legend = await page.$$eval('.panel:has(.panel-title:text-is("Request rate by status")) .ts-legend .series', (e) => e.length);
  if (legend !== codes.data.result.length) fail(`request rate draws ${legend} series, the data has ${codes.data.result.length} codes`);
  for (const t of ['Latency P50 / P95 / P99', 'Error ratio (5xx)']) {
    const p = golden.find((x) => x.title === t);
    if (p?.state !== 'data') fail(`golden ${t}: ${JSON.stringify(p)}`);
  }

  step('every panel type, variables, repeats (expected values worked by hand)');
  // crates/ui/tests/dashboards/all-panels.json over the shop's data: 200s
  // at 10/s, 404s at 1/s, 500s at 0.5/s (11.5/s in all), latency buckets
  // at 0.1/0.25/0.5/1/+Inf holding 50/80/95/99/100% of requests.
  // __T__: 25 minutes ago, so "Rate with gaps" starts with 5 minutes of
  // NaN (0/0) and is 1 after.
  const all = JSON.parse(readFileSync(new URL('../dashboards/all-panels.json', import.meta.url), 'utf8').replaceAll('__T__', String(Math.floor(Date.now() / 1000) - 25 * 60)));
  const put = await fetch(`${base}/api/dashboards/db`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ dashboard: all, overwrite: true }) });
  if (!put.ok) fail(`saving all-panels.json: ${put.status} ${await put.text()}`);
  await page.goto(`${base}/#/dashboards/all-panels?from=now-30m&to=now`);
  await page.waitForSelector('.panel');
  const ap = await loadAll(page);
  await shot('dashboards-all-panels');
  const by = (title) => ap.find((p) => p.title === title) ?? fail(`no panel ${title}: ${ap.map((p) => p.title)}`);
  for (const p of ap) {
    if (p.title === 'A plugin panel') {
      if (p.state !== 'unsupported' || !p.text.includes('piechart')) fail(`plugin panel: ${JSON.stringify(p)}`);
    } else if (p.state !== 'data') fail(`panel ${p.title}: ${p.state}: ${p.text}`);
  }
  const panelSel = (t) => `.panel:has(.panel-title:text-is("${t}"))`;
  const legendRows = await page.$$eval(`${panelSel('Rate by code')} .ts-legend tr.series`, (e) => e.length);
  if (legendRows !== 3) fail(`Rate by code: ${legendRows} series, want 3 (codes 200, 404, 500)`);
  const buckets = await page.getAttribute(`${panelSel('Latency buckets')} canvas`, 'data-buckets');
  if (buckets !== '5') fail(`heatmap has ${buckets} bucket rows, want 5`);
  const stat = (await page.textContent(`${panelSel('Requests per second')} .stat-value`)).trim();
  if (stat !== '11.5 req/s') fail(`stat shows ${stat}, want 11.5 req/s`);
  const gauge = (await page.textContent(`${panelSel('Error ratio')} svg text`)).trim();
  if (gauge !== '4.35%') fail(`gauge shows ${gauge}, want 4.35% (0.5 / 11.5)`);
  const bars = await page.$$eval(`${panelSel('Share by code')} .bar-row`, (rs) => rs.map((r) => `${r.querySelector('.bar-name').textContent}=${r.querySelector('.bar-value').textContent}`));
  if (bars.sort().join(' ') !== '200=87% 404=8.7% 500=4.35%') fail(`bar gauge shows ${bars}`);
  const note = await page.textContent(`${panelSel('Notes')} .text-panel`);
  if (!note.includes('The note says hello; alert above 0.25.')) fail(`text panel: ${note}`);
  if (await page.evaluate(() => window.pwned)) fail('a script in a text panel ran');
  const table = await page.$$eval(`${panelSel('Totals by code')} tbody tr`, (rs) => rs.map((r) => [...r.children].map((c) => c.textContent).slice(0, 2).join('=')));
  if (table.sort().join(' ') !== '200=6 K 404=600 500=300') fail(`table rows ${table}, want 200=6 K 404=600 500=300 (increase over 10m)`);
  const repeated = ap.filter((p) => /^Code /.test(p.title)).map((p) => p.title).sort();
  if (repeated.join(',') !== 'Code 200,Code 404,Code 500') fail(`repeat by code made ${repeated}`);
  if (!ap.some((p) => p.title === 'Quantile 0.95')) fail(`custom variable not interpolated: ${ap.map((p) => p.title)}`);
  // NaN first (0/0), then 1: the NaNs are gaps and the y axis still has a
  // range (0 to 1), where a leading NaN once left it undefined and the
  // chart empty.
  const yRange = await page.getAttribute(`${panelSel('Rate with gaps')} [data-y-range]`, 'data-y-range');
  if (yRange !== '0,1') fail(`Rate with gaps: y range ${yRange}, want 0,1`);
  // Picking one code narrows the panels that use it.
  await page.selectOption('select#var-code', ['404']);
  await page.waitForFunction(() => document.querySelectorAll('.panel .panel-title').length && [...document.querySelectorAll('.panel-title')].filter((t) => /^Code /.test(t.textContent)).length === 1);
  // The stacked rate by code now draws the 404s alone.
  await page.waitForFunction(() => document.querySelectorAll('.ts-legend tr.series').length === 1, null, { timeout: 15000 });
  if (!page.url().includes('var-code=404')) fail(`variable not in the URL: ${page.url()}`);
  await shot('dashboards-all-panels-404');

  step('new dashboard: add a panel, save');
  await page.goto(`${base}/#/dashboards/new`);
  await page.waitForFunction(() => location.hash.includes('from='));
  await page.fill('.dash-title-input', 'Browser test dashboard');
  // Changing the URL (here the time range, as the picker does) keeps what
  // was typed: a new meta object per render once reset the model.
  await page.evaluate(() => { location.hash = location.hash.replace(/from=[^&]*/, 'from=now-2h'); });
  await page.waitForFunction(() => location.hash.includes('from=now-2h'));
  await page.waitForTimeout(200);
  const typed = await page.inputValue('.dash-title-input');
  if (typed !== 'Browser test dashboard') fail(`the title typed became ${JSON.stringify(typed)} after the URL changed`);
  await page.click('button:has-text("Add panel")');
  await page.waitForSelector('.panel-editor');
  await page.fill('#pe-title', 'Head series');
  await page.click('.pe-query .cm-content');
  await page.keyboard.type('sightline_tsdb_head_series', { delay: 5 });
  await page.keyboard.press('Escape');
  await page.click('button:has-text("Run queries")');
  await page.waitForSelector('.pe-preview .panel[data-state="data"] canvas');
  await shot('dashboards-panel-editor');
  await page.click('#pe-apply');
  await page.waitForSelector('.dashboard .panel[data-state="data"]');
  // Drag the lower-right corner: four columns wider, two rows taller.
  const corner = await page.locator('.dashboard .panel .resize').boundingBox();
  const colW = (await page.locator('.grid').boundingBox()).width / 24;
  await page.mouse.move(corner.x + 5, corner.y + 5);
  await page.mouse.down();
  await page.mouse.move(corner.x + 5 + colW * 2, corner.y + 5 + 38, { steps: 5 });
  await page.mouse.move(corner.x + 5 + colW * 4, corner.y + 5 + 76, { steps: 5 });
  await page.mouse.up();
  const saved = page.waitForResponse((r) => r.url().endsWith('/api/dashboards/db'));
  await page.click('#save');
  const body = await (await saved).json();
  if (!body.uid) fail(`save answered ${JSON.stringify(body)}`);
  // A new dashboard opens at its own address once stored.
  await page.waitForURL(new RegExp(`#/dashboards/${body.uid}`));
  await page.waitForSelector(`.dashboard[data-uid="${body.uid}"] .panel[data-state="data"]`);
  const stored = await api(`api/dashboards/uid/${body.uid}`);
  // The title typed first survives everything after it (the URL's time
  // range written in once the page opened once reset it on a slow machine).
  if (stored.dashboard.title !== 'Browser test dashboard') fail(`stored title ${JSON.stringify(stored.dashboard.title)}, want "Browser test dashboard"`);
  const panel = stored.dashboard.panels.find((p) => p.title === 'Head series');
  if (panel?.targets?.[0]?.expr !== 'sightline_tsdb_head_series') fail(`stored dashboard lacks the panel: ${JSON.stringify(stored.dashboard.panels)}`);
  // A new panel is 12 x 8; the drag made it 16 x 10.
  if (panel.gridPos.w !== 16 || panel.gridPos.h !== 10) fail(`resized panel stored as ${JSON.stringify(panel.gridPos)}, want w 16 h 10`);
  await shot('dashboards-saved');
}

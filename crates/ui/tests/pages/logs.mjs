// Logs as a person uses them: lines pushed through Loki's push API (JSON,
// as python-logging-loki and Promtail's JSON mode send them) show in the
// Logs view newest first with their labels and parsed fields, the volume
// chart draws one series per level, a query's lines equal the API's, the
// context shows the neighbours, a trace id links to the trace, a metric
// query draws its series, and live tail shows a line pushed after it
// started.
const NS = 1_000_000n;

async function push(base, streams) {
  const r = await fetch(`${base}/loki/api/v1/push`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ streams }) });
  if (r.status !== 204) throw new Error(`push: ${r.status} ${await r.text()}`);
}

export default async function ({ page, base, step, shot, fail, api }) {
  step('push');
  const now = BigInt(Date.now()) * NS;
  const lines = [];
  // 30 checkout lines over the last 5 minutes: every 5th an error with a
  // trace id; the others info.
  for (let i = 0; i < 30; i++) {
    const ts = now - BigInt(300 - i * 10) * 1000n * NS;
    const lvl = i % 5 === 0 ? 'error' : 'info';
    const trace = i % 5 === 0 ? ` trace_id=4bf92f3577b34da6a3ce929d0e0e${String(4700 + i).padStart(4, '0')}` : '';
    lines.push([ts.toString(), `level=${lvl} msg="order ${i}" duration=${i * 10}ms${trace}`]);
  }
  await push(base, [
    { stream: { job: 'checkout', level: 'info' }, values: lines.filter((l) => l[1].startsWith('level=info')) },
    { stream: { job: 'checkout', level: 'error' }, values: lines.filter((l) => l[1].startsWith('level=error')) },
  ]);

  step('log query');
  const q = '{job="checkout"}';
  await page.goto(`${base}/#/logs?from=now-15m&to=now&query=${encodeURIComponent(q)}`);
  await page.waitForSelector('.log-line');
  const shown = await page.$$eval('.log-line .log-text', (e) => e.map((x) => x.textContent));
  if (shown.length !== 30) fail(`${shown.length} lines shown, 30 pushed`);
  if (!shown[0].includes('order 29')) fail(`newest line first: got ${shown[0]}`);
  await page.waitForSelector('.log-volume canvas');
  const levels = await page.$$eval('.log-volume .legend .series', (e) => e.length);
  if (levels !== 2) fail(`volume chart has ${levels} series, want 2 (info, error)`);
  await shot('logs-lines');

  step('filter equals the API');
  const fq = '{job="checkout"} |= "error" | logfmt | duration > 100ms';
  await page.click('.cm-content');
  await page.keyboard.press('Control+a');
  await page.keyboard.type(fq, { delay: 5 });
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('.log-line').length > 0 && document.querySelectorAll('.log-line').length < 30);
  const ui = await page.$$eval('.log-line .log-text', (e) => e.map((x) => x.textContent));
  const startNs = (now - 900n * 1000n * NS).toString();
  const apiAnswer = await api(`loki/api/v1/query_range?${new URLSearchParams({ query: fq, start: startNs, end: (now + 60n * 1000n * NS).toString(), limit: '500' })}`);
  const want = apiAnswer.data.result.flatMap((s) => s.values.map((v) => v[1])).sort();
  // By hand: errors at i = 0,5,...,25 with duration i*10 > 100ms: i = 15, 20, 25.
  if (want.length !== 3) fail(`API returned ${want.length} lines, by hand 3`);
  if (JSON.stringify([...ui].sort()) !== JSON.stringify(want)) fail(`UI lines ${ui} differ from the API's ${want}`);

  step('fields, context, trace link');
  await page.click('.log-line .log-row');
  await page.waitForSelector('.log-detail');
  const fieldRows = await page.$$eval('.log-detail tr', (rs) => rs.map((r) => r.textContent));
  if (!fieldRows.some((r) => r.includes('duration') && r.includes('250ms'))) fail(`fields of the line: ${fieldRows}`);
  const href = await page.getAttribute('.log-detail a.button', 'href');
  if (!href?.includes('#/traces/4bf92f3577b34da6a3ce929d0e0e4725')) fail(`trace link ${href}`);
  await page.click('button:has-text("Show context")');
  await page.waitForSelector('.log-context .here');
  const ctx = await page.$$eval('.log-context div', (e) => e.length);
  if (ctx < 5) fail(`context shows ${ctx} lines`);
  await shot('logs-detail');

  step('metric query');
  const mq = 'sum by (level) (count_over_time({job="checkout"}[1m]))';
  await page.goto(`${base}/#/logs?from=now-15m&to=now&query=${encodeURIComponent(mq)}`);
  await page.waitForSelector('.chart canvas');
  const series = await page.$$eval('.chart .legend .series', (e) => e.length);
  if (series !== 2) fail(`metric query draws ${series} series, want 2`);
  await shot('logs-metric');

  step('live tail');
  await page.goto(`${base}/#/logs?from=now-15m&to=now&query=${encodeURIComponent(q)}`);
  await page.waitForSelector('.log-line');
  await page.click('#live');
  await page.waitForTimeout(1500);
  await push(base, [{ stream: { job: 'checkout', level: 'info' }, values: [[(BigInt(Date.now()) * NS).toString(), 'level=info msg="tailed line"']] }]);
  await page.waitForFunction(() => [...document.querySelectorAll('.log-text')].some((e) => e.textContent.includes('tailed line')), null, { timeout: 15000 });
  await shot('logs-tail');

  step('logs panels in a dashboard');
  // A Grafana dashboard for Loki as exported (a `DS_LOKI` input, a
  // datasource variable, a logs panel and a LogQL timeseries panel),
  // imported with no answer for its input: the server gives it its Loki
  // data source. Provisioned files go through the same resolution.
  const dash = {
    __inputs: [{ name: 'DS_LOKI', label: 'Loki', type: 'datasource', pluginId: 'loki', pluginName: 'Loki' }],
    title: 'Checkout logs',
    uid: 'checkout-logs',
    schemaVersion: 39,
    time: { from: 'now-15m', to: 'now' },
    templating: {
      list: [
        { name: 'level', type: 'query', datasource: { type: 'loki', uid: '${DS_LOKI}' }, query: 'label_values({job="checkout"}, level)', includeAll: true, multi: true, current: { text: 'All', value: '$__all' } },
      ],
    },
    panels: [
      {
        id: 1,
        type: 'timeseries',
        title: 'Lines by level',
        gridPos: { x: 0, y: 0, w: 24, h: 7 },
        datasource: { type: 'loki', uid: '${DS_LOKI}' },
        targets: [{ refId: 'A', expr: 'sum by (level) (count_over_time({job="checkout", level=~"$level"}[$__interval]))', legendFormat: '{{level}}' }],
      },
      {
        id: 2,
        type: 'logs',
        title: 'Errors',
        gridPos: { x: 0, y: 7, w: 24, h: 10 },
        datasource: { type: 'loki', uid: '${DS_LOKI}' },
        options: { showTime: true, wrapLogMessage: true, sortOrder: 'Descending', enableLogDetails: true, dedupStrategy: 'none' },
        targets: [{ refId: 'A', expr: '{job="checkout", level=~"$level"} |= "error"' }],
      },
    ],
  };
  const imp = await fetch(`${base}/api/dashboards/import`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ dashboard: dash, overwrite: true, inputs: [] }) });
  if (!imp.ok) fail(`import of a Loki dashboard: ${imp.status} ${await imp.text()}`);
  await page.goto(`${base}/#/dashboards/checkout-logs`);
  await page.waitForSelector('.panel.type-logs[data-state="data"] .log-line', { timeout: 20000 });
  const panelLines = await page.$$eval('.panel.type-logs .log-text', (e) => e.map((x) => x.textContent));
  // By hand: the error lines are i = 0, 5, ..., 25 (six), newest first.
  if (panelLines.length !== 6) fail(`logs panel shows ${panelLines.length} lines, want the 6 error lines`);
  if (!panelLines[0].includes('order 25')) fail(`logs panel: newest first, got ${panelLines[0]}`);
  await page.waitForSelector('.panel.type-timeseries[data-state="data"] canvas');
  const tsSeries = await page.$$eval('.panel.type-timeseries .ts-legend .series', (e) => e.map((x) => x.textContent));
  if (tsSeries.length !== 2 || !tsSeries.some((t) => t.includes('error')) || !tsSeries.some((t) => t.includes('info'))) fail(`LogQL timeseries legend: ${tsSeries}`);
  // The dashboard's range (15 minutes) is the picker's.
  if (!page.url().includes('from=now-15m')) fail(`the dashboard's range is not in the URL: ${page.url()}`);
  await page.waitForTimeout(500); // uPlot draws after its first resize
  await shot('logs-dashboard');

  step('a variable narrows the logs panel');
  // Only the fragment changes: the page stays, the variable's new value
  // re-runs the panels. Wait for that answer rather than the old one.
  await page.goto(`${base}/#/dashboards/checkout-logs?var-level=info`);
  const settled = await page
    .waitForFunction(() => document.querySelector('.panel.type-logs')?.getAttribute('data-state') === 'nodata', null, { timeout: 20000 })
    .then(() => true, () => false);
  const narrowed = await page.$$eval('.panel.type-logs .log-text', (e) => e.length);
  // level=info lines carry no "error": the panel says there is no data.
  if (!settled || narrowed !== 0) fail(`with level=info the error panel shows ${narrowed} lines (state ${await page.getAttribute('.panel.type-logs', 'data-state')}), want none`);
  const msg = await page.textContent('.panel.type-logs .panel-msg');
  if (!msg?.includes('No data for') || !msg.includes('level=~"info"')) fail(`the empty logs panel says ${msg}`);
}

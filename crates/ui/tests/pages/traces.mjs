// Traces as a person uses them: a known multi-service trace sent over
// OTLP/HTTP JSON (as the OpenTelemetry SDKs' JSON exporters send it) is
// found by service and operation, and by TraceQL; its waterfall shows the
// tree, the error, the critical path and a span's attributes and events,
// with links to the span's logs; the service map draws the calls.
// Fresh ids each run, so a run against a server that kept earlier ones
// sees only its own spans.
const hex = (n) => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, '0')).join('');
const TRACE = hex(16);
const OTHER = hex(16);

function kv(k, v) {
  if (typeof v === 'number') return { key: k, value: Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v } };
  return { key: k, value: { stringValue: v } };
}

function otlp(nowMs) {
  const t0 = BigInt(nowMs - 60_000) * 1_000_000n;
  const at = (ms) => (t0 + BigInt(ms) * 1_000_000n).toString();
  const span = (trace, id, parent, name, kind, from, to, extra = {}) => ({
    traceId: trace, spanId: id, parentSpanId: parent, name, kind,
    startTimeUnixNano: at(from), endTimeUnixNano: at(to), ...extra,
  });
  const res = (svc) => ({ attributes: [kv('service.name', svc), kv('host.name', `${svc}-1`)] });
  return {
    resourceSpans: [
      {
        resource: res('frontend'),
        scopeSpans: [{ scope: { name: 'browser-test' }, spans: [
          span(TRACE, '0000000000000001', '', 'GET /checkout', 2, 0, 120, { attributes: [kv('http.method', 'GET'), kv('http.status_code', 500)] }),
          span(TRACE, '0000000000000002', '0000000000000001', 'POST /api/orders', 3, 10, 100),
          span(OTHER, '0000000000000009', '', 'GET /', 2, 500, 505),
        ] }],
      },
      {
        resource: res('api'),
        scopeSpans: [{ scope: { name: 'browser-test' }, spans: [
          span(TRACE, '0000000000000003', '0000000000000002', 'POST /api/orders', 2, 15, 95, {
            status: { code: 2, message: 'order rejected' },
            events: [{ timeUnixNano: at(50), name: 'exception', attributes: [kv('exception.message', 'out of stock')] }],
          }),
          span(TRACE, '0000000000000004', '0000000000000003', 'SELECT orders', 3, 20, 60, { attributes: [kv('db.system', 'postgresql'), kv('peer.service', 'db')] }),
        ] }],
      },
    ],
  };
}

export default async function ({ page, base, step, shot, fail }) {
  step('send spans');
  const r = await fetch(`${base}/v1/traces`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(otlp(Date.now())) });
  if (r.status !== 200) fail(`OTLP push: ${r.status} ${await r.text()}`);

  step('search by service');
  await page.goto(`${base}/#/traces?from=now-15m&to=now`);
  const hasOption = (sel, v) => page.waitForFunction(([s, v]) => [...document.querySelectorAll(`${s} option`)].some((o) => o.value === v), [sel, v]);
  await hasOption('select[name=service]', 'frontend');
  await page.selectOption('select[name=service]', 'frontend');
  await hasOption('select[name=operation]', 'GET /checkout');
  await page.click('text=Find traces');
  await page.waitForSelector('table.traces tbody tr');
  const rows = await page.$$eval('table.traces tbody tr', (trs) => trs.map((t) => t.textContent));
  if (rows.length !== 2) fail(`${rows.length} traces found for frontend, want 2: ${rows}`);
  if (!rows.some((t) => t.includes('frontend: GET /checkout') && t.includes('120ms') && t.includes('4') && t.includes('1 error'))) fail(`the checkout trace row: ${rows}`);
  const dots = await page.$$eval('svg.scatter circle', (c) => c.length);
  if (dots !== 2) fail(`${dots} dots in the scatter plot, want 2`);
  await shot('traces-search');
  await page.selectOption('select[name=operation]', 'GET /checkout');
  await page.fill('input[name=minDuration]', '100ms');
  await page.click('text=Find traces');
  await page.waitForFunction(() => document.querySelectorAll('table.traces tbody tr').length === 1);

  step('waterfall');
  await page.click(`table.traces a[href*="${TRACE}"]`);
  await page.waitForSelector('.waterfall .wf-row[data-span]');
  const spans = await page.$$eval('.waterfall .wf-row[data-span]', (e) => e.map((x) => x.textContent));
  if (spans.length !== 4) fail(`${spans.length} span rows, want 4`);
  if (!spans[0].includes('frontend') || !spans[0].includes('GET /checkout')) fail(`first row is the root: ${spans[0]}`);
  const indents = await page.$$eval('.waterfall .wf-row[data-span] .wf-name', (e) => e.map((x) => parseInt(x.style.paddingLeft)));
  if (!(indents[0] < indents[1] && indents[1] < indents[2] && indents[2] < indents[3])) fail(`rows indented by depth: ${indents}`);
  const errRows = await page.$$eval('.waterfall .wf-row.error', (e) => e.length);
  if (errRows !== 1) fail(`${errRows} error rows, want 1`);
  const path = await page.$$eval('.wf-path', (e) => e.length);
  if (path < 4) fail(`critical path has ${path} segments, want at least one per span`);
  const head = await page.textContent('.trace-head');
  if (!head.includes('120ms') || !head.includes('4 spans') || !head.includes('2 services')) fail(`trace header: ${head}`);
  await page.click('.wf-row[data-span="0000000000000003"]');
  await page.waitForSelector('.span-details');
  const details = await page.textContent('.span-details');
  for (const want of ['order rejected', 'exception', 'out of stock', 'api-1']) if (!details.includes(want)) fail(`span details lack ${want}: ${details}`);
  const logs = await page.getAttribute('.span-details a:has-text("Logs with this trace id")', 'href');
  if (!logs.includes(encodeURIComponent(`|= "${TRACE}"`))) fail(`logs link ${logs}`);
  await shot('traces-waterfall');
  await page.click('.wf-row[data-span="0000000000000002"] .wf-toggle');
  const after = await page.$$eval('.waterfall .wf-row[data-span]', (e) => e.length);
  if (after !== 2) fail(`collapsing the client span leaves ${after} rows, want 2`);

  step('traceql');
  await page.goto(`${base}/#/traces?from=now-15m&to=now&mode=traceql`);
  await page.waitForSelector('.cm-content');
  await page.click('.cm-content');
  await page.keyboard.type('{ status = error && resource.service.name = "api" }', { delay: 5 });
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  await page.waitForSelector('table.traces tbody tr');
  const tq = await page.$$eval('table.traces tbody tr', (trs) => trs.map((t) => t.textContent));
  if (tq.length !== 1 || !tq[0].includes(TRACE)) fail(`TraceQL found ${tq}`);
  await shot('traces-traceql');

  step('service map');
  await page.goto(`${base}/#/traces?from=now-15m&to=now&view=map`);
  await page.waitForSelector('.service-map svg');
  const nodes = await page.$$eval('.service-map .node', (e) => e.map((x) => x.getAttribute('data-service')).sort());
  for (const want of ['api', 'frontend']) if (!nodes.includes(want)) fail(`service map nodes ${nodes}`);
  const edges = await page.$$eval('.service-map .edge', (e) => e.map((x) => x.getAttribute('data-edge')));
  if (!edges.includes('frontend->api')) fail(`service map edges ${edges}`);
  await shot('traces-map');

  step('traces panels');
  const dash = {
    uid: 'checkout-traces',
    title: 'Checkout traces',
    time: { from: 'now-15m', to: 'now' },
    panels: [
      { id: 1, type: 'traces', title: 'Errors', gridPos: { x: 0, y: 0, w: 24, h: 6 }, datasource: { type: 'tempo', uid: 'sightline-traces' }, targets: [{ refId: 'A', queryType: 'traceql', query: '{ status = error }' }] },
      { id: 2, type: 'traces', title: 'One trace', gridPos: { x: 0, y: 6, w: 24, h: 10 }, datasource: { type: 'tempo', uid: 'sightline-traces' }, targets: [{ refId: 'A', queryType: 'traceql', query: TRACE }] },
    ],
  };
  const imp = await fetch(`${base}/api/dashboards/import`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ dashboard: dash, overwrite: true, inputs: [] }) });
  if (!imp.ok) fail(`import of a traces dashboard: ${imp.status} ${await imp.text()}`);
  await page.goto(`${base}/#/dashboards/checkout-traces`);
  await page.waitForSelector('.panel.type-traces table.traces tbody tr', { timeout: 20000 });
  const listed = await page.$$eval('.panel.type-traces table.traces tbody tr a', (e) => e.map((x) => x.getAttribute('href')));
  if (!listed.some((h) => h.includes(TRACE))) fail(`the TraceQL traces panel lists ${listed}`);
  await page.waitForSelector('.panel.type-traces .waterfall .wf-row[data-span]');
  const rowsInPanel = await page.$$eval('.panel.type-traces .waterfall .wf-row[data-span]', (e) => e.length);
  if (rowsInPanel !== 4) fail(`the trace panel shows ${rowsInPanel} spans, want 4`);
  await shot('traces-panels');
}

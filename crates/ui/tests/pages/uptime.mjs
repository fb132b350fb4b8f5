// Uptime: every monitor of /api/v1/uptime with its ratios, status, a strip
// of bars from probe_success, the response-time chart (one line per
// monitor target) and the outages with their causes. The fixture's
// `self` monitor is up (after a first outage while the server's address
// was not known yet), `nothing-listens` is down.
const pct = (v) => (v == null || isNaN(v) ? '-' : `${(v * 100).toFixed(2)}%`);

export default async function ({ page, base, step, shot, fail, api }) {
  const uptime = async () => (await api('api/v1/uptime')).data;

  step('monitors');
  await page.goto(`${base}/#/uptime?from=now-15m&to=now`);
  await page.waitForSelector('tr.monitor');
  const mons = await uptime();
  if (mons.length !== 2) fail(`the fixture has two monitors, the API ${mons.length}`);
  const rows = await page.$$eval('tr.monitor', (e) => e.length);
  if (rows !== mons.length) fail(`page lists ${rows} monitors, API ${mons.length}`);
  for (const m of mons) {
    const row = `tr.monitor[data-monitor="${m.monitor}"]`;
    const pill = (await page.textContent(`${row} .pill`)).trim();
    if (pill !== (m.up ? 'up' : 'down')) fail(`${m.monitor} shown ${pill}, API up=${m.up}`);
    for (const w of ['24h', '7d', '30d', '90d']) {
      const before = pct(m.uptime[w]);
      const shown = (await page.textContent(`${row} td[data-window="${w}"]`)).trim();
      const after = pct((await uptime()).find((x) => x.monitor === m.monitor).uptime[w]);
      if (shown !== before && shown !== after) fail(`${m.monitor} ${w}: page ${shown}, API ${before} then ${after}`);
    }
  }
  const down = mons.find((m) => !m.up);
  if (!down || down.monitor !== 'nothing-listens') fail(`nothing-listens should be down: ${JSON.stringify(mons)}`);

  step('bars');
  await page.waitForSelector('tr.monitor .bars .bar.down');
  for (const m of mons) {
    const row = `tr.monitor[data-monitor="${m.monitor}"]`;
    const n = await page.$$eval(`${row} .bars .bar`, (e) => e.length);
    if (n !== 96) fail(`${m.monitor}: ${n} bars over 24h, want 96`);
    const lastBar = await page.$$eval(`${row} .bars .bar`, (e) => e[e.length - 1].className);
    const want = m.up ? /up|partial/ : /down/;
    if (!want.test(lastBar)) fail(`${m.monitor}: last bar ${lastBar}, up=${m.up}`);
  }

  step('response time');
  await page.waitForSelector('.response-time .chart canvas');
  const lines = await page.$$eval('.response-time .chart .legend .series', (e) => e.length);
  if (lines !== mons.length) fail(`response-time chart draws ${lines} lines, want ${mons.length}`);

  step('outages');
  const outages = (await uptime()).flatMap((m) => m.outages);
  const shownOutages = await page.$$eval('table.outages tbody tr', (e) => e.length);
  if (shownOutages !== outages.length) fail(`${shownOutages} outages shown, API ${outages.length}`);
  const ongoing = down.outages.find((o) => !o.end);
  if (!ongoing) fail(`nothing-listens has no ongoing outage: ${JSON.stringify(down)}`);
  const causes = await page.$$eval('table.outages tr.ongoing td.cause', (e) => e.map((x) => x.textContent));
  if (!causes.includes(ongoing.cause)) fail(`ongoing causes shown ${causes}, API ${ongoing.cause}`);
  await page.mouse.move(900, 200);
  await shot('uptime');

  step('90 days');
  await page.click('button.tab:has-text("Last 90d")');
  await page.waitForFunction(() => document.querySelectorAll('tr.monitor:first-child .bars .bar').length === 90);
  if (!page.url().includes('span=90d')) fail(`span not kept in the URL: ${page.url()}`);
  await page.waitForSelector('tr.monitor .bars .bar.down');
  await shot('uptime-90d');
}

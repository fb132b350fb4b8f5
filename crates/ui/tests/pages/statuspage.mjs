// The public status page at /status: no navigation and no links, the
// overall banner, every monitor with 90 daily bars and its 90-day uptime,
// and the current outages, all from the uptime data.
const pct = (v) => (v == null || isNaN(v) ? '-' : `${(v * 100).toFixed(2)}%`);

export default async function ({ page, base, step, shot, fail, api }) {
  const uptime = async () => (await api('api/v1/uptime')).data;

  step('banner');
  await page.goto(`${base}/status`);
  await page.waitForSelector('.banner');
  if (await page.$('nav')) fail('the status page shows the navigation');
  const links = await page.$$eval('a', (e) => e.map((a) => a.href));
  if (links.length) fail(`the status page links to ${links}`);
  const mons = await uptime();
  const downN = mons.filter((m) => !m.up).length;
  const banner = (await page.textContent('.banner')).trim();
  if (banner !== `Partial outage: ${downN} of ${mons.length} services down`) fail(`banner ${banner}`);

  step('services');
  const shown = await page.$$eval('.service', (e) => e.length);
  if (shown !== mons.length) fail(`${shown} services shown, API ${mons.length}`);
  for (const m of mons) {
    const sel = `.service[data-monitor="${m.monitor}"]`;
    const before = pct(m.uptime['90d']);
    const ratio = (await page.textContent(`${sel} .ratio`)).trim();
    const after = pct((await uptime()).find((x) => x.monitor === m.monitor).uptime['90d']);
    if (ratio !== before && ratio !== after) fail(`${m.monitor}: ${ratio}, API ${before} then ${after}`);
    const state = (await page.textContent(`${sel} .state`)).trim();
    if (state !== (m.up ? 'Operational' : 'Down')) fail(`${m.monitor} shown ${state}`);
  }
  await page.waitForSelector('.service .bars .bar.down');
  const bars = await page.$$eval('.service .bars', (e) => e.map((b) => b.querySelectorAll('.bar').length));
  if (bars.some((n) => n !== 90)) fail(`bars per service ${bars}, want 90`);

  step('current outages');
  const cur = mons.flatMap((m) => m.outages.filter((o) => !o.end).map((o) => o.cause));
  const causes = await page.$$eval('.current .outage .cause', (e) => e.map((x) => x.textContent));
  if (causes.length !== cur.length || !cur.every((c) => causes.includes(c))) fail(`outages shown ${causes}, API ${cur}`);
  await shot('statuspage');
}

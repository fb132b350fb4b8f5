// The Operations pages (issue 14, item 7), each against the API fetched
// outside the browser: targets (the `down` job's target down with its
// last error), service discovery, config, flags, rules, runtime, TSDB.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export default async function ({ page, base, step, shot, fail, api }) {
  step('targets');
  await page.goto(`${base}/#/ops/targets`);
  await page.waitForSelector('section.pool[data-pool="down"] tr.target');
  const targets = (await api('api/v1/targets?state=active')).data.activeTargets;
  const pools = await page.$$eval('section.pool', (ps) => ps.map((p) => p.dataset.pool));
  const apiPools = [...new Set(targets.map((t) => t.scrapePool))].sort();
  if (pools.join() !== apiPools.join()) fail(`pools shown ${pools}, API ${apiPools}`);
  const rows = await page.$$eval('tr.target', (r) => r.length);
  if (rows !== targets.length) fail(`${rows} targets shown, API has ${targets.length}`);
  const down = targets.find((t) => t.scrapePool === 'down');
  if (down.health !== 'down' || !down.lastError) fail(`the API's down target: ${JSON.stringify(down)}`);
  const row = 'section.pool[data-pool="down"] tr.target';
  if ((await page.textContent(`${row} .badge`)) !== 'down') fail('the down job is not shown down');
  const err = await page.textContent(`${row} .last-error`);
  if (!err) fail('the down target shows no last error');
  // Scrapes run every second: the error text is the same each time.
  if (err !== down.lastError) fail(`last error shown ${JSON.stringify(err)}, API ${JSON.stringify(down.lastError)}`);
  await shot('ops-targets');
  // Hiding healthy targets leaves only the down one.
  await page.uncheck('label.health-up input');
  await page.waitForFunction(() => document.querySelectorAll('tr.target').length === 1);
  if (!page.url().includes('hide=up')) fail(`health filter not in the URL: ${page.url()}`);
  await page.fill('input[aria-label="Search targets"]', 'no-such-target');
  await page.waitForFunction(() => document.querySelectorAll('tr.target').length === 0);
  await page.goto(`${base}/#/ops/targets`);
  await page.click('section.pool[data-pool="sightline"] header');
  await page.waitForSelector('section.pool[data-pool="sightline"] table', { state: 'detached' });

  step('service discovery');
  await page.goto(`${base}/#/ops/sd`);
  await page.waitForSelector('table.sd-table');
  const any = (await api('api/v1/targets?state=any')).data;
  const active = await page.$$eval('tr.sd-active', (r) => r.length);
  const dropped = await page.$$eval('tr.sd-dropped', (r) => r.length);
  if (active !== any.activeTargets.length || dropped !== any.droppedTargets.length)
    fail(`sd shows ${active} active and ${dropped} dropped, API ${any.activeTargets.length} and ${any.droppedTargets.length}`);
  await shot('ops-sd');

  step('config');
  await page.goto(`${base}/#/ops/config`);
  await page.waitForSelector('pre.config-yaml');
  const yaml = (await api('api/v1/status/config')).data.yaml;
  if ((await page.textContent('pre.config-yaml')) !== yaml) fail('config shown differs from the API');
  await page.click('button.copy');
  await page.waitForFunction(() => document.querySelector('.config .hint').textContent !== '');
  await shot('ops-config');

  step('flags');
  await page.goto(`${base}/#/ops/flags`);
  await page.waitForSelector('table.flags-table tbody tr');
  const flags = (await api('api/v1/status/flags')).data;
  const frows = await page.$$eval('table.flags-table tbody tr', (r) => r.map((x) => [x.cells[0].textContent, x.cells[1].textContent]));
  const want = Object.keys(flags)
    .sort()
    .map((k) => [`--${k}`, flags[k]]);
  if (JSON.stringify(frows) !== JSON.stringify(want)) fail(`flags shown ${JSON.stringify(frows)}, API ${JSON.stringify(want)}`);
  await shot('ops-flags');

  step('rules');
  await page.goto(`${base}/#/ops/rules`);
  await page.waitForSelector('details.rule[data-rule="TargetDown"]');
  await shot('ops-rules');

  step('runtime and build');
  await page.goto(`${base}/#/ops/runtime`);
  await page.waitForSelector('table.build-table');
  await page.waitForSelector('table.runtime-table');
  const rt = (await api('api/v1/status/runtimeinfo')).data;
  const bi = (await api('api/v1/status/buildinfo')).data;
  const rtKeys = await page.$$eval('table.runtime-table tr', (r) => r.map((x) => x.dataset.key));
  if (rtKeys.join() !== Object.keys(rt).join()) fail(`runtime shows ${rtKeys}, API ${Object.keys(rt)}`);
  const version = await page.textContent('table.build-table tr[data-key="version"] td');
  if (version !== bi.version) fail(`version shown ${version}, API ${bi.version}`);
  await shot('ops-runtime');

  step('tsdb status equals the API');
  // The head grows between the two fetches while scrapes run; the page's
  // own answer is compared, and the outside fetch checks the page read the
  // real endpoint (same metric names in the same order, or retry).
  let last = '';
  for (let i = 0; i < 5; i++) {
    const respP = page.waitForResponse((r) => r.url().endsWith('/api/v1/status/tsdb'));
    if (i === 0) await page.goto(`${base}/#/ops/tsdb`);
    else await page.waitForLoadState('networkidle').then(() => page.reload());
    await respP;
    await page.waitForSelector('table.tsdb-table');
    const outside = (await api('api/v1/status/tsdb')).data;
    const shown = await page.evaluate(() => {
      const o = { headStats: {} };
      for (const tr of document.querySelectorAll('table.head-stats tr')) o.headStats[tr.dataset.key] = tr.cells[0].nextElementSibling.textContent;
      for (const t of document.querySelectorAll('table.tsdb-table'))
        o[t.dataset.key] = [...t.querySelectorAll('tbody tr')].map((r) => ({ name: r.cells[0].textContent, value: Number(r.cells[1].textContent) }));
      return o;
    });
    const mismatch = [];
    for (const k of ['numSeries', 'chunkCount', 'numLabelPairs'])
      if (shown.headStats[k] !== String(outside.headStats[k])) mismatch.push(`${k}: ${shown.headStats[k]} vs ${outside.headStats[k]}`);
    for (const k of ['seriesCountByMetricName', 'labelValueCountByLabelName', 'memoryInBytesByLabelName', 'seriesCountByLabelValuePair'])
      if (JSON.stringify(shown[k]) !== JSON.stringify(outside[k])) mismatch.push(`${k}: ${JSON.stringify(shown[k])} vs ${JSON.stringify(outside[k])}`);
    if (!outside.seriesCountByMetricName.length) mismatch.push('the API lists no metric names');
    if (!mismatch.length) {
      last = '';
      break;
    }
    last = mismatch.join('\n');
    await sleep(1500);
  }
  if (last) fail(`TSDB page differs from the API:\n${last}`);
  await shot('ops-tsdb');
}

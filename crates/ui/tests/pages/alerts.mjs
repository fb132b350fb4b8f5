// The Alerts page (issue 14, item 6): alert groups equal the built-in
// Alertmanager's, rules show Prometheus's states, a silence created in the
// UI appears in /api/v2/silences and expiring it there expires it,
// Alertmanager's fragment links land on the right view, notifications and
// inhibitions load.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Polls `f` (async, returns a value or a falsy one) until it holds.
async function until(what, f, fail, ms = 30_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await f();
    if (last) return last;
    await sleep(500);
  }
  fail(`timed out waiting for ${what}`);
}

/// The groups as the page shows them: receiver and group labels to the
/// sorted fingerprints of the alerts shown in it.
const shownGroups = (page) =>
  page.$$eval('section.alert-group', (gs) =>
    gs
      .map((g) => {
        const fps = [...g.querySelectorAll('.alert')].map((a) => a.dataset.fingerprint).sort();
        return `${g.dataset.receiver} ${g.dataset.labels} ${fps.join(',')}`;
      })
      .sort(),
  );
const apiGroups = (groups) =>
  groups
    .map((g) => `${g.receiver.name} ${JSON.stringify(g.labels)} ${g.alerts.map((a) => a.fingerprint).sort().join(',')}`)
    .sort();

export default async function ({ page, base, step, shot, fail, api, allow }) {
  // The validation check posts a bad silence on purpose.
  allow.push(/status of 400/);

  step('wait for TargetDown; add an alert the inhibit rule mutes');
  await until('TargetDown at the Alertmanager', async () => (await api('api/v2/alerts?filter=alertname%3D%22TargetDown%22')).length > 0, fail);
  // The fixture's inhibit rule: severity=page mutes severity=ticket with an
  // equal job; TargetDown is job="down", severity="page".
  const r = await fetch(`${base}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify([
      {
        labels: { alertname: 'Muted', severity: 'ticket', job: 'down' },
        annotations: { summary: 'inhibited by TargetDown' },
        // Without startsAt, Alertmanager starts an alert at its endsAt.
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 3600e3).toISOString(),
      },
    ]),
  });
  if (!r.ok) fail(`posting an alert: ${r.status}`);
  await until(
    'Muted to be inhibited',
    async () => (await api('api/v2/alerts?filter=alertname%3D%22Muted%22'))[0]?.status.inhibitedBy.length > 0,
    fail,
  );

  step('alert groups equal /api/v2/alerts/groups');
  let ok = false;
  for (let i = 0; i < 5 && !ok; i++) {
    // A fresh load each time (reloading once the last one settled, so no
    // request of it is cut off).
    if (i === 0) await page.goto(`${base}/#/alerts`);
    else await page.waitForLoadState('networkidle').then(() => page.reload());
    await page.waitForSelector('section.alert-group .alert');
    const shown = await shownGroups(page);
    const want = apiGroups(await api('api/v2/alerts/groups'));
    ok = JSON.stringify(shown) === JSON.stringify(want);
    if (!ok && i === 4) fail(`groups shown:\n${shown.join('\n')}\nAPI:\n${want.join('\n')}`);
    if (!ok) await sleep(1000);
  }
  const groupNames = await page.$$eval('section.alert-group', (gs) => gs.map((g) => JSON.parse(g.dataset.labels).alertname));
  for (const n of ['TargetDown', 'AlwaysFiring', 'Muted']) if (!groupNames.includes(n)) fail(`no group ${n}: ${groupNames}`);
  // The runbook annotation is a link; the source opens in Explore.
  await page.waitForSelector('a[href="https://example.com/runbooks/target-down"]');
  const td = (await api('api/v2/alerts?filter=alertname%3D%22TargetDown%22'))[0];
  const src = await page.getAttribute(`.alert[data-fingerprint="${td.fingerprint}"] a.source`, 'href');
  if (!td.generatorURL) fail('TargetDown has no generatorURL');
  if (!src.startsWith('#/explore?') || new URLSearchParams(src.split('?')[1]).get('expr') !== 'up == 0')
    fail(`source link ${src} is not Explore of "up == 0" (generatorURL ${td.generatorURL})`);
  await shot('alerts-groups');

  step('filter and receiver links (Alertmanager fragment links)');
  await page.goto(`${base}/#/alerts?filter=${encodeURIComponent('{alertname="TargetDown"}')}`);
  await page.waitForSelector('section.alert-group .alert');
  const names = await page.$$eval('section.alert-group', (gs) => gs.map((g) => JSON.parse(g.dataset.labels).alertname));
  if (names.join() !== 'TargetDown') fail(`filter shows groups ${names}`);
  await page.goto(`${base}/#/alerts?receiver=hook&silenced=false&inhibited=false`);
  await page.waitForSelector('section.alert-group .alert');
  const want = apiGroups(await api('api/v2/alerts/groups?receiver=hook&silenced=false&inhibited=false'));
  const shown = await shownGroups(page);
  if (JSON.stringify(shown) !== JSON.stringify(want)) fail(`receiver/inhibited filter shows\n${shown.join('\n')}\nAPI:\n${want.join('\n')}`);
  if (shown.some((g) => g.includes('"Muted"'))) fail('inhibited=false still shows the inhibited alert');
  if ((await page.inputValue('select[aria-label="Receiver"]')) !== 'hook') fail('receiver not selected');

  step('rules');
  await page.goto(`${base}/#/alerts/rules`);
  await page.waitForSelector('details.rule');
  const rules = (await api('api/v1/rules')).data.groups.flatMap((g) => g.rules);
  for (const rule of rules) {
    const state = rule.type === 'alerting' ? rule.state : 'recording';
    const badge = await page.textContent(`details.rule[data-rule="${rule.name}"] summary .badge`);
    if (badge !== state) fail(`rule ${rule.name} shown ${badge}, API says ${state}`);
  }
  // TargetDown's alerts change while targets go down: the page and the
  // API must agree at one moment, so both are read again until they do
  // (a few rule evaluations at most) before the counts are compared.
  let firing = -1;
  let apiFiring = -2;
  for (let i = 0; i < 8 && firing !== apiFiring; i++) {
    if (i) {
      await page.waitForTimeout(1000);
      await page.reload();
      await page.waitForSelector('details.rule');
    }
    const before = (await api('api/v1/rules')).data.groups.flatMap((g) => g.rules).find((x) => x.name === 'TargetDown').alerts.length;
    firing = await page.$$eval('details.rule[data-rule="TargetDown"] table.rule-alerts tbody tr', (r) => r.length);
    const after = (await api('api/v1/rules')).data.groups.flatMap((g) => g.rules).find((x) => x.name === 'TargetDown').alerts.length;
    apiFiring = before === after ? after : -2;
  }
  if (firing !== apiFiring) fail(`TargetDown shows ${firing} alerts, API ${apiFiring}`);
  await shot('alerts-rules');

  step('silence an alert from its Silence button');
  await page.goto(`${base}/#/alerts?filter=${encodeURIComponent('{alertname="AlwaysFiring"}')}`);
  await page.waitForSelector('.alert .silence-btn');
  const af = (await api('api/v2/alerts?filter=alertname%3D%22AlwaysFiring%22'))[0];
  await page.click('.alert .silence-btn');
  await page.waitForSelector('.silence-editor .matcher-row');
  if (!page.url().includes('#/silences/new?filter=')) fail(`Silence button went to ${page.url()}`);
  const rows = await page.$$eval('.matcher-row', (rs) =>
    rs.map((r) => `${r.querySelector('[name=name]').value}${r.querySelector('select').value}${r.querySelector('[name=value]').value}`).sort(),
  );
  const labels = Object.keys(af.labels)
    .sort()
    .map((k) => `${k}=${af.labels[k]}`);
  if (rows.join() !== labels.join()) fail(`matchers prefilled ${rows}, alert labels ${labels}`);
  // The preview lists the alert the silence will mute.
  await page.waitForSelector(`.preview-alert[data-fingerprint="${af.fingerprint}"]`);
  await page.fill('[name=createdBy]', 'ui-test');
  await page.fill('[name=comment]', 'silenced from the browser test');
  await page.fill('[name=duration]', '1h');
  await shot('alerts-silence-new');
  await page.click('.silence-editor button[type=submit]');
  await page.waitForSelector('.silence-view');
  const id = await page.getAttribute('.silence-view', 'data-id');
  const created = (await api('api/v2/silences')).find((s) => s.id === id);
  if (!created) fail(`silence ${id} made in the UI is not in /api/v2/silences`);
  if (created.status.state !== 'active') fail(`silence ${id} is ${created.status.state}`);
  if (created.comment !== 'silenced from the browser test' || created.createdBy !== 'ui-test') fail(`silence ${JSON.stringify(created)}`);
  const got = created.matchers.map((m) => `${m.name}=${m.value}${m.isRegex ? '~' : ''}${m.isEqual ? '' : '!'}`).sort();
  if (got.join() !== labels.join()) fail(`silence matchers ${got}, want ${labels}`);
  const len = Date.parse(created.endsAt) - Date.parse(created.startsAt);
  if (Math.abs(len - 3600e3) > 5000) fail(`silence lasts ${len} ms, want 1h`);
  await page.waitForSelector(`.silence-view .alert[data-fingerprint="${af.fingerprint}"]`);
  await shot('alerts-silence-view');

  step('the silenced alert shows as suppressed, silenced by it');
  await until(
    'AlwaysFiring suppressed',
    async () => (await api('api/v2/alerts?filter=alertname%3D%22AlwaysFiring%22'))[0]?.status.silencedBy.includes(id),
    fail,
  );
  await page.goto(`${base}/#/alerts`);
  await page.waitForSelector(`.alert[data-fingerprint="${af.fingerprint}"] a.silenced-by[href="#/silences/${id}"]`);
  const st = await page.textContent(`.alert[data-fingerprint="${af.fingerprint}"] .badge`);
  if (st !== 'suppressed') fail(`silenced alert shown as ${st}`);

  step('edit the silence');
  await page.goto(`${base}/#/silences/${id}/edit`);
  await page.waitForSelector('.silence-editor [name=comment]');
  if ((await page.inputValue('[name=comment]')) !== created.comment) fail('editor not prefilled from the silence');
  await page.fill('[name=comment]', 'edited in the browser test');
  await page.click('.silence-editor button[type=submit]');
  await page.waitForFunction((old) => /#\/silences\/[^/]+$/.test(location.hash) && document.querySelector('.silence-view'), id);
  const id2 = await page.getAttribute('.silence-view', 'data-id');
  const all = await api('api/v2/silences');
  const edited = all.find((s) => s.id === id2);
  if (!edited || edited.comment !== 'edited in the browser test' || edited.status.state !== 'active')
    fail(`edited silence ${id2}: ${JSON.stringify(edited)}`);
  const liveOnes = all.filter((s) => s.status.state === 'active' && s.comment.includes('browser test'));
  if (liveOnes.length !== 1) fail(`after the edit ${liveOnes.length} active silences from the test: ${JSON.stringify(liveOnes)}`);

  step('expire it from the list');
  await page.goto(`${base}/#/silences`);
  await page.waitForSelector(`.silence[data-id="${id2}"]`);
  await shot('alerts-silences');
  await page.click(`.silence[data-id="${id2}"] button.expire`);
  await page.click(`.silence[data-id="${id2}"] button.expire-confirm`);
  await page.waitForSelector(`.silence[data-id="${id2}"]`, { state: 'detached' });
  const expired = (await api('api/v2/silences')).find((s) => s.id === id2);
  if (expired?.status.state !== 'expired') fail(`expired in the UI, API says ${JSON.stringify(expired?.status)}`);
  await page.click('button.tab:has-text("expired")');
  await page.waitForSelector(`.silence[data-id="${id2}"]`);
  await shot('alerts-silences-expired');

  step('Alertmanager links: #/silences/<id>, #/silences/new?filter=');
  await page.goto(`${base}/#/silences/${id2}`);
  await page.waitForSelector(`.silence-view[data-id="${id2}"]`);
  await page.goto(`${base}/#/silences/new?filter=${encodeURIComponent('{alertname="X", job=~"a|b"}')}`);
  await page.waitForSelector('.silence-editor .matcher-row');
  const linked = await page.$$eval('.matcher-row', (rs) =>
    rs.map((r) => `${r.querySelector('[name=name]').value}${r.querySelector('select').value}${r.querySelector('[name=value]').value}`),
  );
  if (linked.join() !== 'alertname=X,job=~a|b') fail(`#/silences/new?filter= gave matchers ${linked}`);

  step('a bad silence: the API says why');
  await page.fill('[name=duration]', '');
  await page.fill('[name=endsAt]', 'not a time');
  const respP = page.waitForResponse((r) => r.url().endsWith('/api/v2/silences') && r.request().method() === 'POST');
  await page.click('.silence-editor button[type=submit]');
  const resp = await respP;
  if (resp.status() !== 400) fail(`bad silence answered ${resp.status()}`);
  const msg = await resp.json();
  await page.waitForSelector('.silence-editor .error');
  const shownErr = await page.textContent('.silence-editor .error');
  if (!shownErr.includes(msg)) fail(`error shown ${JSON.stringify(shownErr)} lacks the API's ${JSON.stringify(msg)}`);
  await shot('alerts-silence-error');

  step('notifications');
  const histP = page.waitForResponse((r) => r.url().includes('/api/v1/notifications'));
  await page.goto(`${base}/#/alerts/notifications`);
  const hist = (await (await histP).json()).data;
  if (hist.length) {
    await page.waitForSelector('table.notification-log tbody tr');
    const n = await page.$$eval('table.notification-log tbody tr', (r) => r.length);
    if (n !== hist.length) fail(`notifications shows ${n} rows, the API answered ${hist.length}`);
  } else await page.waitForSelector('.notifications p.hint');
  await shot('alerts-notifications');

  step('inhibitions');
  await page.goto(`${base}/#/alerts/inhibitions`);
  await page.waitForSelector('tr.inhibit-rule');
  const rule = await page.textContent('tr.inhibit-rule');
  if (!rule.includes('severity="page"') || !rule.includes('severity="ticket"') || !rule.includes('job'))
    fail(`inhibit rule shown as ${JSON.stringify(rule)}`);
  const muted = (await api('api/v2/alerts')).filter((a) => a.status.inhibitedBy.length);
  await page.waitForSelector('.inhibited .alert');
  const shownMuted = await page.$$eval('.inhibited .alert', (as) => as.map((a) => a.dataset.fingerprint).sort());
  if (shownMuted.join() !== muted.map((a) => a.fingerprint).sort().join()) fail(`inhibited shown ${shownMuted}, API ${muted.map((a) => a.fingerprint)}`);
  const by = await page.textContent('.inhibited .muted-by');
  if (!by.includes('TargetDown')) fail(`inhibited alert's source shown as ${JSON.stringify(by)}`);
  await shot('alerts-inhibitions');
}

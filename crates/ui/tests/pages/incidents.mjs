// Incidents: the fixture's TargetDown (severity page) opens an incident
// at its first notification; AlwaysFiring (severity ticket) opens none.
// The list shows what the API lists; the incident page shows the ticket
// fields, the runbook link and the timeline; Acknowledge, Comment, Edit and
// Resolve change what the API answers.
export default async function ({ page, base, step, shot, fail, api }) {
  step('list');
  let list = [];
  for (let i = 0; i < 150 && !list.some((x) => x.name === 'TargetDown'); i++) {
    list = (await api('api/v1/incidents')).data ?? [];
    if (!list.some((x) => x.name === 'TargetDown')) await new Promise((r) => setTimeout(r, 200));
  }
  const inc = list.find((x) => x.name === 'TargetDown');
  if (!inc) fail(`no TargetDown incident: ${JSON.stringify(list)}`);
  if (list.some((x) => x.name === 'AlwaysFiring')) fail('a severity=ticket alert opened an incident');
  await page.goto(`${base}/#/incidents`);
  await page.waitForSelector('tr.incident');
  const rows = await page.$$eval('tr.incident', (e) => e.length);
  if (rows !== list.length) fail(`list shows ${rows} incidents, API has ${list.length}`);
  const first = (await page.textContent('tr.incident .badge')).trim();
  if (first !== list[0].status) fail(`first row status ${first}, API ${list[0].status}`);
  await shot('incidents-list');

  step('incident page');
  await page.click(`tr.incident a[href="#/incidents/${inc.id}"]`);
  await page.waitForSelector('.incident-page');
  const h2 = await page.textContent('.incident-page h2');
  if (!h2.includes(`Incident ${inc.id}: TargetDown`)) fail(`heading: ${h2}`);
  const subject = await page.textContent('dl.ticket');
  if (!subject.includes(inc.subject)) fail(`ticket does not show the subject ${inc.subject}: ${subject}`);
  const rb = await page.getAttribute('.incident-page a[href="https://example.com/runbooks/target-down"]', 'href');
  if (!rb) fail('runbook link missing');
  await page.waitForSelector('li.event.alert_fired');
  await shot('incident-open');

  step('acknowledge');
  await page.fill('input[aria-label="Your name"]', 'ui-tester');
  await page.click('button:has-text("Acknowledge")');
  await page.waitForSelector('.incident-page h2 .badge.acknowledged');
  const acked = (await api(`api/v1/incidents/${inc.id}`)).data;
  if (acked.acknowledgedBy !== 'ui-tester') fail(`acknowledged by ${acked.acknowledgedBy}`);

  step('comment');
  await page.fill('input[aria-label="Comment"]', 'restarting the target');
  await page.click('button:has-text("Comment")');
  await page.waitForSelector('li.event.comment:has-text("restarting the target")');

  step('edit');
  await page.click('button:has-text("Edit")');
  await page.fill('.ticket-edit input[name="subject"]', 'scrape target lost');
  await page.click('.ticket-edit button[type="submit"]');
  await page.waitForSelector('dl.ticket:has-text("scrape target lost")');
  const edited = (await api(`api/v1/incidents/${inc.id}`)).data;
  if (edited.subject !== 'scrape target lost') fail(`subject after edit: ${edited.subject}`);
  await shot('incident-acknowledged');

  step('resolve');
  await page.click('button:has-text("Resolve")');
  await page.waitForSelector('.incident-page h2 .badge.resolved');
  const done = (await api(`api/v1/incidents/${inc.id}`)).data;
  if (done.status !== 'resolved' || done.resolvedBy !== 'ui-tester') fail(`after resolve: ${done.status} by ${done.resolvedBy}`);
  await page.waitForSelector('li.event.resolved');
  // A webhook retried every second is one line per run, not one per try:
  // no two neighbouring lines are notifications to the same receiver.
  const lines = await page.$$eval('ol.timeline li', (ls) => ls.map((l) => [l.className, l.querySelector('.text')?.textContent.split(':')[1] ?? '']));
  for (let k = 1; k < lines.length; k++) {
    if (lines[k][0].includes('notification') && lines[k - 1][0] === lines[k][0] && lines[k - 1][1] === lines[k][1]) fail(`notifications to ${lines[k][1]} not collapsed: lines ${k} and ${k + 1}`);
  }
  const tried = done.timeline.filter((e) => e.kind === 'notification').length;
  const shown = lines.filter((l) => l[0].includes('notification')).length;
  if (tried > 1 && shown >= tried) fail(`${tried} notifications drawn as ${shown} lines`);
  await shot('incident-resolved');
}

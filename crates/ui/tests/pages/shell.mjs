// The shell: every page of the navigation loads (placeholders until each
// page's own module checks it), and the time range travels between them.
export default async function ({ page, base, step, shot, fail }) {
  step('navigation');
  await page.goto(`${base}/#/explore?from=now-3h&to=now`);
  await page.waitForSelector('nav.nav');
  await shot('home');
  const links = await page.$$eval('nav.nav a:not(.brand)', (as) => as.map((a) => a.getAttribute('href')));
  if (links.length < 8) fail(`navigation has ${links.length} links: ${links}`);
  for (const l of links) {
    if (!l.includes('from=now-3h')) fail(`link ${l} loses the time range`);
    await page.goto(`${base}/${l}`);
    await page.waitForSelector('main > *');
  }
  await page.goto(`${base}/#/traces?from=now-1h&to=now`);
  await page.waitForSelector('.trace-search');
  await page.goto(`${base}/#/nowhere`);
  const text = await page.textContent('main');
  if (!text.includes('No page')) fail(`an unknown route shows ${JSON.stringify(text)}`);
}

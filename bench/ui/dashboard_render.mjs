// Times a dashboard in headless Chromium: from navigation to every panel
// drawn (each panel's data-state is "data" and its canvas exists).
// usage: node dashboard_render.mjs URL PANELS RUNS
// playwright-core comes from crates/ui/node_modules (`npm ci` there).
import { createRequire } from 'node:module';
const require = createRequire(new URL('../../crates/ui/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [url, panels, runs] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] || 5)];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
const times = [];
for (let i = 0; i < runs + 1; i++) {
  const page = await browser.newPage({ viewport: { width: 1600, height: 2400 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(
    (n) => {
      const ps = [...document.querySelectorAll('.panel')];
      return ps.length >= n && ps.every((p) => p.getAttribute('data-state') === 'data' && p.querySelector('canvas'));
    },
    panels,
    { timeout: 60000, polling: 'raf' },
  );
  // Navigation start to now: the page's own clock.
  const ms = await page.evaluate(() => performance.now());
  const series = await page.$$eval('.ts-legend .series', (e) => e.length);
  if (errors.length) throw new Error(errors.join('\n'));
  if (i > 0) times.push(ms); // the first run warms the server's caches
  console.error(`run ${i}: ${ms.toFixed(0)} ms, ${series} series in legends`);
  await page.close();
}
await browser.close();
times.sort((a, b) => a - b);
console.log(JSON.stringify({ median_ms: times[times.length >> 1], runs: times }));

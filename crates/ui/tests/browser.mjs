// Drives the UI in headless Chromium against a running `sightline serve`
// (crates/server/tests/ui_browser.rs starts it with tests/fixture/): each
// module under tests/pages/ checks one page as a person uses it, and every
// page must load without console errors. Screenshots go to OUTDIR.
//
// usage: node tests/browser.mjs BASE_URL OUTDIR [PAGE...]
//   PAGE: the name of a module under tests/pages/ (default: all of them)
import { chromium } from 'playwright-core';
import { mkdirSync, readdirSync } from 'node:fs';

const [base, outDir, ...only] = process.argv.slice(2);
if (!base || !outDir) {
  console.error('usage: node tests/browser.mjs BASE_URL OUTDIR [PAGE...]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
// A stuck step fails the test instead of hanging it.
setTimeout(() => {
  console.error('browser test: timed out after 300 s');
  process.exit(1);
}, 300_000).unref();

const modules = readdirSync(new URL('./pages/', import.meta.url))
  .filter((f) => f.endsWith('.mjs'))
  .map((f) => f.slice(0, -4))
  .filter((m) => !only.length || only.includes(m))
  .sort();
if (!modules.length) {
  console.error(`no page modules match ${only.join(' ')}`);
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const failures = [];
try {
  for (const name of modules) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const problems = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    if (process.env.DEBUG) page.on('request', (r) => console.log(`request: ${r.method()} ${r.url()}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.setDefaultTimeout(15_000);
    const ctx = {
      page,
      base,
      step: (s) => console.log(`${name}: ${s}`),
      shot: (shot) => page.screenshot({ path: `${outDir}/${shot}.png`, fullPage: true }),
      fail: (msg) => {
        throw new Error(msg);
      },
      /// The API's JSON, fetched outside the browser.
      api: (path, init) => fetch(`${base}/${path}`, init).then((r) => r.json()),
      /// Problems a page module expects (e.g. a 400 for a bad query).
      allow: [],
    };
    try {
      const mod = await import(`./pages/${name}.mjs`);
      await mod.default(ctx);
      const real = problems.filter((p) => !ctx.allow.some((re) => re.test(p)));
      if (real.length) throw new Error(`problems in the browser:\n${real.join('\n')}`);
      console.log(`${name}: ok`);
    } catch (e) {
      await ctx.shot(`FAILED-${name}`).catch(() => {});
      failures.push(`${name}: ${e.stack ?? e}`);
      console.log(`${name}: FAILED`);
    } finally {
      await page.close();
    }
  }
} finally {
  await browser.close();
}
if (failures.length) {
  console.error(failures.join('\n\n'));
  process.exit(1);
}
console.log(`ok: ${modules.join(', ')}; screenshots in ${outDir}`);

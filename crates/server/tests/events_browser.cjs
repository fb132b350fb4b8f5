// Drives headless chromium (playwright-core from crates/ui/node_modules,
// Debian's chromium) for tests/events_browser.rs: opens PAGE_URL, whose
// snippet loads Sightline's /v1/analytics.js cross-origin, makes calls
// through `analytics`, flushes, and prints "ok".
const { chromium } = require(process.env.PLAYWRIGHT);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: ["--no-sandbox"],
  });
  try {
    const page = await browser.newPage();
    page.on("console", (m) => console.error("page:", m.text()));
    await page.goto(process.env.PAGE_URL);
    // The real script has replaced the stub once `flush` exists.
    await page.waitForFunction(() => window.analytics && typeof window.analytics.flush === "function", null, { timeout: 20000 });
    const ok = await page.evaluate(async () => {
      analytics.track("Clicked Buy", { sku: "A-1", price: 9.5 });
      analytics.identify("user-42", { plan: "pro" });
      analytics.track("Checked Out", { items: 2 });
      analytics.group("acme", { seats: 5 });
      analytics.alias("user-42b");
      return analytics.flush();
    });
    if (!ok) throw new Error("flush failed");
    const user = await page.evaluate(() => analytics.user());
    console.log(JSON.stringify({ ok: true, anonymousId: user.anonymousId }));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

// @segment/analytics-node against Sightline, for tests/events_clients.rs:
// `node send.mjs WRITE_KEY HOST PREFIX` sends the six calls of the Python
// clients' script, with the same fixed timestamps and message ids.
import { Analytics } from "@segment/analytics-node";

const [writeKey, host, prefix] = process.argv.slice(2);
const a = new Analytics({ writeKey, host, maxRetries: 1, flushInterval: 200 });
const errors = [];
a.on("error", (e) => errors.push(JSON.stringify(e?.reason?.message ?? e)));
const t = (d) => new Date(Date.UTC(2030, 0, d));
const id = (call) => `${prefix}-${call}`;
a.identify({ userId: "u-1", traits: { plan: "pro", name: "Ada" }, timestamp: t(1), messageId: id("identify") });
a.track({ userId: "u-1", event: "Order Completed", properties: { revenue: 42.5, currency: "EUR" }, timestamp: t(2), messageId: id("track") });
a.page({ userId: "u-1", name: "Pricing", properties: { path: "/pricing" }, timestamp: t(3), messageId: id("page") });
a.screen({ userId: "u-1", name: "Home", properties: { tab: 2 }, timestamp: t(4), messageId: id("screen") });
a.group({ userId: "u-1", groupId: "g-1", traits: { employees: 12 }, timestamp: t(5), messageId: id("group") });
a.alias({ userId: "u-1", previousId: "anon-9", timestamp: t(6), messageId: id("alias") });
await a.closeAndFlush({ timeout: 20000 });
if (errors.length) {
  console.error("client errors:", errors.join("; "));
  process.exit(1);
}

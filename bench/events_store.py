"""The event store against ClickHouse in-process (PyPI `chdb`, a MergeTree
table of the same rows) and against gzipped NDJSON, on one generated set of
realistic Segment events (90 days, ~40 event names, ~200k people, a few
properties and a browser context each).

Prints, from the same run: disk bytes (ours, chdb's active parts, the
gzipped NDJSON; target: ours at most 1/2 of gzipped NDJSON), and a scan of
[timestamp, person] over every event (ours through EventScan, chdb's
`SELECT ... FROM events` with max_threads=1), and daily active people from
both, which must agree.

Usage: python3 bench/events_store.py [EVENTS] [CORPUS.ndjson.gz]
(default 10,000,000 events, generated afresh; a corpus made earlier by
`generate` is reused as it is, for repeated runs)
Needs: pip install chdb==4.4.0. Run on purpose, not in CI (the default
size takes ~15 minutes and ~3 GB of /tmp).
"""
import gzip
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T0 = 1_788_220_800  # 2026-09-01T00:00:00Z
DAYS = 90
PEOPLE = 200_000

NAMES = (
    ["Page Viewed"] * 12 + ["Product Viewed"] * 6 + ["Product Clicked"] * 4 + ["Products Searched"] * 3
    + ["Product Added"] * 2 + ["Cart Viewed"] * 2 + ["Checkout Started", "Order Completed", "Signed Up", "Signed In",
       "Signed Out", "Feedback Submitted", "Error Shown", "Session Started", "Session Ended", "Experiment Viewed",
       "Video Playback Started", "Video Playback Completed", "Coupon Applied", "Coupon Denied", "Product Removed",
       "Payment Info Entered", "Order Refunded", "Order Cancelled", "Promotion Viewed", "Promotion Clicked",
       "Product Shared", "Product Reviewed", "Wishlist Product Added", "Cart Shared", "Account Deleted",
       "Password Reset", "Invite Sent", "Notification Clicked", "Settings Changed", "Plan Upgraded"]
)
CATEGORIES = ["shoes", "shirts", "bags", "hats", "socks", "jackets", "watches", "books"]
PLANS = ["free", "free", "free", "pro", "team"]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
]
LOCALES = ["en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP"]


def uuid(rng):
    h = "%032x" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def iso(ms):
    s, m = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%03dZ" % m


def generate(path, n, seed=19):
    """Writes `n` Segment track messages in time order, gzipped."""
    rng = random.Random(seed)
    people = []
    for i in range(PEOPLE):
        people.append((uuid(rng), f"user_{i}" if rng.random() < 0.7 else None,
                       rng.choice(AGENTS), rng.choice(LOCALES), f"203.0.{rng.randrange(256)}.0",
                       rng.choice(PLANS)))
    span_ms = DAYS * 86_400_000
    with gzip.open(path, "wt", compresslevel=6) as f:
        for i in range(n):
            ts = T0 * 1000 + i * span_ms // n + rng.randrange(1000)
            # Skewed activity: a few people do most things.
            anon, user, agent, locale, ip, plan = people[int(PEOPLE * rng.random() ** 2.5)]
            name = rng.choice(NAMES)
            product = rng.randrange(5000)
            props = {"category": CATEGORIES[product % 8], "plan": plan}
            if name.startswith("Product") or name.startswith("Order") or name == "Checkout Started":
                props["product_id"] = f"sku-{product}"
                props["price"] = round(5 + (product % 200) * 0.5, 2)
                props["currency"] = "USD"
            if name == "Experiment Viewed":
                props["experiment"] = "checkout-v2"
                props["variant"] = "B" if anon[0] in "01234567" else "A"
            path_ = f"/products/{product}" if "Product" in name else rng.choice(["/", "/cart", "/checkout", "/search"])
            msg = {
                "type": "track", "event": name, "anonymousId": anon, "messageId": uuid(rng),
                "timestamp": iso(ts), "receivedAt": iso(ts + 40 + rng.randrange(400)),
                "properties": props,
                "context": {
                    "library": {"name": "analytics.js", "version": "5.2.0"},
                    "page": {"path": path_, "url": "https://shop.example.com" + path_},
                    "userAgent": agent, "locale": locale, "ip": ip,
                },
            }
            if user:
                msg["userId"] = user
            f.write(json.dumps(msg, separators=(",", ":")))
            f.write("\n")


CHDB_DDL = """
CREATE TABLE events (
  timestamp DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
  receivedAt DateTime64(3, 'UTC') CODEC(Delta, ZSTD(1)),
  type LowCardinality(String),
  event LowCardinality(String),
  userId String CODEC(ZSTD(1)),
  anonymousId String CODEC(ZSTD(1)),
  messageId String CODEC(ZSTD(1)),
  person UInt64 MATERIALIZED cityHash64(if(userId != '', userId, anonymousId)),
  properties String CODEC(ZSTD(3)),
  context String CODEC(ZSTD(3))
) ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (toDate(timestamp), event, person, timestamp)
"""


def evbench():
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "sightline-eventstore", "--example", "evbench"],
                   cwd=ROOT, env=env, check=True)
    return os.path.join(env["CARGO_TARGET_DIR"], "release", "examples", "evbench")


def dir_bytes(p):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(p) for f in fs)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    try:
        from chdb import session
    except ImportError:
        raise SystemExit("chdb is not installed: pip install chdb==4.4.0")
    tmp = tempfile.mkdtemp(prefix="events-store-")
    try:
        if len(sys.argv) > 2:
            src = os.path.abspath(sys.argv[2])
        else:
            src = os.path.join(tmp, "events.ndjson.gz")
            t = time.time()
            generate(src, n)
            print(f"generated {n} events in {time.time() - t:.0f} s", flush=True)
        gz = os.path.getsize(src)
        print(f"gzipped NDJSON (level 6): {gz / 1e6:.1f} MB ({gz / n:.1f} B/event)", flush=True)

        exe = evbench()
        store = os.path.join(tmp, "ours")
        with subprocess.Popen(["gzip", "-dc", src], stdout=subprocess.PIPE) as z:
            out = subprocess.run([exe, "load", store], stdin=z.stdout, check=True, capture_output=True, text=True)
        ours = json.loads(out.stdout.strip().splitlines()[-1])
        assert ours["events"] == n, ours
        scan = json.loads(subprocess.run([exe, "scan", store, "5"], check=True, capture_output=True,
                                         text=True).stdout.strip().splitlines()[-1])

        s = session.Session(os.path.join(tmp, "chdb"))
        s.query(CHDB_DDL)
        t = time.time()
        s.query(f"""INSERT INTO events (timestamp, receivedAt, type, event, userId, anonymousId, messageId,
                                        properties, context)
            SELECT parseDateTime64BestEffort(timestamp, 3), parseDateTime64BestEffort(receivedAt, 3), type, event,
                   ifNull(userId, ''), anonymousId, messageId, properties, context
            FROM file('{src}', 'JSONEachRow',
                      'type String, event String, userId Nullable(String), anonymousId String, messageId String,
                       timestamp String, receivedAt String, properties String, context String')
            SETTINGS input_format_json_read_objects_as_strings = 1""")
        s.query("OPTIMIZE TABLE events FINAL")
        ch_load = time.time() - t
        ch = int(str(s.query("SELECT sum(bytes_on_disk) FROM system.parts WHERE active AND table = 'events'",
                             "CSV")).strip())
        rows = int(str(s.query("SELECT count() FROM events", "CSV")).strip())
        assert rows == n, rows
        ch_times = []
        for _ in range(5):
            t = time.time()
            s.query("SELECT count(), sum(toUnixTimestamp64Milli(timestamp)), sum(person) FROM events "
                    "SETTINGS max_threads = 1", "CSV")
            ch_times.append((time.time() - t) * 1000)
        t = time.time()
        ch_dau_csv = str(s.query("SELECT toString(toDate(timestamp)), uniqExact(person) FROM events "
                                 "GROUP BY 1 ORDER BY 1 SETTINGS max_threads = 1", "CSV"))
        ch_dau_ms = (time.time() - t) * 1000
        ch_dau = {}
        for line in ch_dau_csv.strip().splitlines():
            d, c = line.split(",")
            ch_dau[d.strip('"')] = int(c)
        assert ch_dau == scan["dau"], "daily active people differ between ours and chdb"

        ch_scan = statistics.median(ch_times)
        print(f"load: ours {ours['load_s']:.0f} s ({n / ours['load_s']:.0f} events/s, {ours['blocks']} day blocks); "
              f"chdb insert+optimize {ch_load:.0f} s")
        print(f"disk: ours {ours['store_bytes'] / 1e6:.1f} MB ({ours['store_bytes'] / n:.1f} B/event), "
              f"chdb {ch / 1e6:.1f} MB ({ch / n:.1f} B/event), gzipped NDJSON {gz / 1e6:.1f} MB")
        print(f"  ours/gzipped NDJSON = {ours['store_bytes'] / gz:.3f} (target <= 0.5); "
              f"ours/chdb = {ours['store_bytes'] / ch:.3f}")
        print(f"scan [timestamp, person] of {n} events, one core, median of 5: ours {scan['scan_ms']:.1f} ms, "
              f"chdb {ch_scan:.1f} ms; ours/chdb = {scan['scan_ms'] / ch_scan:.3f}")
        print(f"daily active people over {len(ch_dau)} days (equal in both): ours {scan['dau_ms']:.1f} ms "
              f"(scan + per-day sets), chdb {ch_dau_ms:.1f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

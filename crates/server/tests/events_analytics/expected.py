#!/usr/bin/env python3
"""The analytics questions of events_analytics.rs answered independently,
in plain Python, from the corpus as NDJSON (Sightline's exported event
shape): names, values, trends, active users, funnels, retention, A/B tests.

Usage: expected.py EVENTS.ndjson QUESTIONS.json  -> prints a JSON list of
answers, one per question, shaped as the API's `data`.
"""
import json
import math
import statistics
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone

DAY = 86_400_000
Z = 1.959963984540054


def person(e):
    return e.get("userId") or e.get("anonymousId") or ""


def prop(e, key):
    """The scalar text of properties.<k> / traits.<k> / context.<path>."""
    place, _, rest = key.partition(".")
    obj = e.get(place, {})
    if rest in obj:
        v = obj[rest]
    else:
        v = obj
        for part in rest.split("."):
            if not isinstance(v, dict) or part not in v:
                return None
            v = v[part]
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, str)):
        return str(v)
    return None


def passes(e, filters):
    for f in filters:
        v = prop(e, f["key"])
        op = f["op"]
        if op == "exists":
            ok = v is not None
        else:
            (name, arg), = op.items()
            if name == "ne":
                ok = v != arg
            elif v is None:
                ok = False
            elif name == "eq":
                ok = v == arg
            elif name == "in":
                ok = v in arg
            elif name == "contains":
                ok = arg in v
            else:
                try:
                    x = float(v)
                except ValueError:
                    ok = False
                else:
                    ok = x > arg if name == "gt" else x < arg
        if not ok:
            return False
    return True


def ms(t):
    return int(round(float(t) * 1000))


def dt(t_ms):
    return datetime.fromtimestamp(t_ms / 1000, tz=timezone.utc)


def floor(step, t_ms):
    d = dt(t_ms)
    if step == "hour":
        d = d.replace(minute=0, second=0, microsecond=0)
    elif step == "day":
        d = d.replace(hour=0, minute=0, second=0, microsecond=0)
    elif step == "week":
        d = (d - timedelta(days=d.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        d = d.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(d.timestamp() * 1000)


def buckets(step, start, end):
    out = []
    t = floor(step, start)
    while t < end:
        out.append(t)
        d = dt(t)
        if step == "hour":
            t += 3_600_000
        elif step == "day":
            t += DAY
        elif step == "week":
            t += 7 * DAY
        else:
            y, m = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
            t = int(datetime(y, m, 1, tzinfo=timezone.utc).timestamp() * 1000)
    return out


def bucket_of(bs, t):
    i = None
    for j, b in enumerate(bs):
        if b <= t:
            i = j
    return i


def in_range(events, q):
    s, e = ms(q["start"]), ms(q["end"])
    return [x for x in events if s <= x["timestampMs"] < e]


def ranked(counts, field, limit=None):
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if limit:
        rows = rows[:limit]
    return [{field: k, "count": n} for k, n in rows]


def names(events, q):
    c = defaultdict(int)
    for e in in_range(events, q):
        c[e["name"]] += 1
    return ranked(c, "name")


def values(events, q):
    c = defaultdict(int)
    for e in in_range(events, q):
        if e["name"] != q["event"]:
            continue
        v = prop(e, q["key"])
        if v is not None:
            c[v] += 1
    return ranked(c, "value", q.get("limit", 50))


def value_key(v):
    return (0, "") if v is None else (1, v)


def trends(events, q):
    start, end = ms(q["start"]), ms(q["end"])
    bs = buckets(q["step"], start, end)
    bd = q.get("breakdown")
    rows = defaultdict(lambda: ([0] * len(bs), [set() for _ in bs]))
    for e in in_range(events, q):
        if e["name"] not in q["events"] or not passes(e, q.get("filters", [])):
            continue
        b = bucket_of(bs, e["timestampMs"])
        v = prop(e, bd) if bd else None
        counts, people = rows[(e["name"], v)]
        counts[b] += 1
        if person(e):
            people[b].add(person(e))
    series = []

    def row(ev, v, other, counts, people):
        total_people = set().union(*people) if people else set()
        return {"event": ev, "breakdown": v, "other": other, "counts": counts,
                "people": [len(p) for p in people], "total": sum(counts),
                "total_people": len(total_people)}

    for ev in q["events"]:
        mine = [(v, c, p) for (n, v), (c, p) in rows.items() if n == ev]
        if not mine and not bd:
            series.append(row(ev, None, False, [0] * len(bs), [set() for _ in bs]))
            continue
        mine.sort(key=lambda r: (-sum(r[1]), value_key(r[0])))
        keep = max(1, q.get("limit", 10)) if bd else len(mine)
        for v, c, p in mine[:keep]:
            series.append(row(ev, v, False, c, p))
        rest = mine[keep:]
        if rest:
            c = [sum(r[1][i] for r in rest) for i in range(len(bs))]
            p = [set().union(*(r[2][i] for r in rest)) for i in range(len(bs))]
            series.append(row(ev, "other", True, c, p))
    return {"buckets": bs, "series": series}


def active_users(events, q):
    start, end = ms(q["start"]), ms(q["end"])
    first = start // DAY
    last = (end - 1) // DAY
    by_day = defaultdict(set)
    for e in events:
        if q.get("events") and e["name"] not in q["events"]:
            continue
        if person(e):
            by_day[e["timestampMs"] // DAY].add(person(e))
    days = []
    for d in range(first, last + 1):
        dau = len(by_day[d])
        wau = len(set().union(*(by_day[x] for x in range(d - 6, d + 1))))
        mau = len(set().union(*(by_day[x] for x in range(d - 29, d + 1))))
        days.append({"day_ms": d * DAY, "dau": dau, "wau": wau, "mau": mau,
                     "stickiness": dau / mau if mau else 0.0})
    n = max(1, len(days))
    return {"days": days, "mean_dau": sum(x["dau"] for x in days) / n,
            "mean_stickiness": sum(x["stickiness"] for x in days) / n}


def funnel(events, q):
    steps = q["steps"]
    window = parse_window(q.get("window", "14d"))
    bd = q.get("breakdown")
    hits = defaultdict(list)
    for e in in_range(events, q):
        mask = 0
        for k, s in enumerate(steps):
            if e["name"] == s["event"] and passes(e, s.get("filters", [])):
                mask |= 1 << k
        if mask and person(e):
            hits[person(e)].append((e["timestampMs"], mask, prop(e, bd) if bd else None))
    n = len(steps)
    total = ([0] * n, [[] for _ in range(n)])
    per_value = {}
    for who, hs in hits.items():
        hs.sort(key=lambda h: (h[0], h[1]))
        best = None
        for i, (t0, m0, v0) in enumerate(hs):
            if not m0 & 1:
                continue
            times = [t0]
            for t, m, _ in hs[i + 1:]:
                if len(times) == n or t - t0 > window:
                    break
                if m & (1 << len(times)):
                    times.append(t)
            if best is None or len(times) > len(best[0]):
                best = (times, v0)
                if len(times) == n:
                    break
        if best is None:
            continue
        accs = [total]
        if bd:
            accs.append(per_value.setdefault(best[1], ([0] * n, [[] for _ in range(n)])))
        for reached, gaps in accs:
            for k, t in enumerate(best[0]):
                reached[k] += 1
                if k:
                    gaps[k].append(t - best[0][k - 1])

    def finish(acc):
        reached, gaps = acc
        out = []
        for k, s in enumerate(steps):
            prev = reached[0] if k == 0 else reached[k - 1]
            out.append({
                "event": s["event"], "people": reached[k],
                "conversion_from_previous": reached[k] / prev if prev else 0.0,
                "conversion_from_first": reached[k] / reached[0] if reached[0] else 0.0,
                "median_seconds_from_previous":
                    statistics.median(gaps[k]) / 1000 if k and gaps[k] else None,
            })
        return out

    breakdowns = []
    if bd:
        rows = sorted(per_value.items(), key=lambda kv: (-kv[1][0][0], value_key(kv[0])))
        limit = max(1, q.get("limit", 10))
        for v, acc in rows[:limit]:
            breakdowns.append({"value": v, "other": False, "steps": finish(acc)})
        if rows[limit:]:
            other = ([0] * n, [[] for _ in range(n)])
            for _, (r, g) in rows[limit:]:
                for k in range(n):
                    other[0][k] += r[k]
                    other[1][k].extend(g[k])
            breakdowns.append({"value": "other", "other": True, "steps": finish(other)})
    return {"steps": finish(total), "breakdowns": breakdowns}


def parse_window(w):
    if isinstance(w, (int, float)):
        return int(w * 1000)
    units = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": DAY, "w": 7 * DAY}
    return int(w[:-1]) * units[w[-1]]


def retention(events, q):
    start, end = ms(q["start"]), ms(q["end"])
    bs = buckets(q["period"], start, end)
    first = {}
    returned = set()
    for e in in_range(events, q):
        who = person(e)
        if not who:
            continue
        if e["name"] == q["cohort_event"] and passes(e, q.get("cohort_filters", [])):
            first[who] = min(first.get(who, e["timestampMs"]), e["timestampMs"])
        if e["name"] == q["return_event"] and passes(e, q.get("return_filters", [])):
            returned.add((who, bucket_of(bs, e["timestampMs"])))
    n = len(bs)
    size = [0] * n
    retained = [[0] * (n - c) for c in range(n)]
    for who, t in first.items():
        c = bucket_of(bs, t)
        size[c] += 1
        for k in range(1, n - c):
            if (who, c + k) in returned:
                retained[c][k] += 1
    cohorts = []
    for c in range(n):
        retained[c][0] = size[c]
        cohorts.append({"start_ms": bs[c], "size": size[c], "retained": retained[c],
                        "share": [x / size[c] if size[c] else 0.0 for x in retained[c]]})
    return {"period": q["period"], "cohorts": cohorts}


def wilson(x, n):
    if n == 0:
        return 0.0, 1.0
    p = x / n
    d = 1 + Z * Z / n
    c = (p + Z * Z / (2 * n)) / d
    h = Z / d * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, c - h), min(1.0, c + h)


def abtest(events, q):
    start, end = ms(q["start"]), ms(q["end"])
    window = parse_window(q.get("window", "14d"))
    exposures = {}
    variants_seen = set()
    conversions = defaultdict(list)
    for e in events:
        t = e["timestampMs"]
        who = person(e)
        if not who or not (start <= t < end + window):
            continue
        v = prop(e, q["variant_property"])
        if e["name"] == q["exposure_event"] and t < end and v is not None:
            variants_seen.add(v)
            exposures.setdefault(who, []).append((t, v))
        if e["name"] == q["conversion_event"] and passes(e, q.get("conversion_filters", [])):
            conversions[who].append(t)
    exposed = defaultdict(int)
    converted = defaultdict(int)
    mixed = 0
    for who, xs in exposures.items():
        if len({v for _, v in xs}) > 1:
            mixed += 1
            continue
        t0 = min(t for t, _ in xs)
        v = xs[0][1]
        exposed[v] += 1
        if any(t0 <= t <= t0 + window for t in conversions[who]):
            converted[v] += 1
    control = q.get("control") or ("control" if "control" in variants_seen else min(variants_seen))
    order = [control] + sorted(v for v in variants_seen if v != control)
    cx, cn = converted[control], exposed[control]
    crate = cx / cn if cn else 0.0
    out = []
    for v in order:
        x, n = converted[v], exposed[v]
        rate = x / n if n else 0.0
        lo, hi = wilson(x, n)
        z = p = sig = uplift = None
        if v != control:
            if cn == 0 or n == 0:
                z, p = 0.0, 1.0
            else:
                pooled = (cx + x) / (cn + n)
                se = math.sqrt(pooled * (1 - pooled) * (1 / cn + 1 / n))
                if se == 0:
                    z, p = 0.0, 1.0
                else:
                    z = (rate - crate) / se
                    p = math.erfc(abs(z) / math.sqrt(2))
            sig = p < 0.05
            uplift = rate / crate - 1 if crate > 0 else None
        out.append({"variant": v, "exposed": n, "converted": x, "rate": rate, "ci_low": lo,
                    "ci_high": hi, "uplift": uplift, "z": z, "p_value": p, "significant": sig})
    return {"control": control, "variants": out, "mixed_exposures": mixed, "alpha": 0.05}


def main():
    events = [json.loads(line) for line in open(sys.argv[1])]
    questions = json.load(open(sys.argv[2]))
    answer = {"names": names, "values": values, "query": trends, "active_users": active_users,
              "funnel": funnel, "retention": retention, "abtest": abtest}
    print(json.dumps([answer[x["path"]](events, x["q"]) for x in questions]))


main()

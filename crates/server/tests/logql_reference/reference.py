"""An independent LogQL evaluator for crates/server/tests/logql_reference.rs
(issue 15, item 8). Written from Loki's documentation (LogQL log queries,
metric queries, template functions) and, where the documentation is silent,
from how Loki behaves; it shares no code or design with crates/logql. It
covers what queries.txt uses, nothing more, and favours being obviously
right over being fast.

Semantics and where they come from (Loki 3):
- log queries read lines with start <= ts < end (query_range's documented
  bounds), merged across streams newest first (backward) or oldest first
  (forward), cut at `limit` lines after the pipeline;
- a range aggregation at step t reads the lines with t-range < ts <= t
  (left-open, right-closed, as Loki's range vector iterator), shifted by
  `offset`; steps are start, start+step, ... <= end;
- structured metadata joins the labels of a line (Loki 3 without the
  categorize-labels flag), a parsed label whose name a stream label has
  gets the `_extracted` suffix;
- numeric, duration, bytes and ip label filters keep a line that already
  carries `__error__`, drop a line without the label, and mark a line whose
  value does not convert with `__error__="LabelFilterErr"` and keep it;
  `and` evaluates both sides, `or` stops at a true left side;
- a metric query whose samples carry `__error__` fails (HTTP 400);
- rate_counter extrapolates as Loki's range_vector.go does, which differs
  from Prometheus's rate: the range is taken to end at the last sample and
  to start `range` before the first (in Loki's mixed units, see
  `rate_counter`), and fewer than two samples give 0.

The syntax lives in refsyntax.py, the pipeline in refpipeline.py.

Usage: python3 reference.py CORPUS.ndjson BASE_NS QUERIES.txt > expected.json
"""
import bisect
import heapq
import json
import math
import re
import sys

from refsyntax import *  # noqa: F401,F403 (one module split in three)
from refpipeline import *  # noqa: F401,F403


# ---------------------------------------------------------------- data


class Corpus:
    """The corpus by stream, each stream's entries in time order."""

    def __init__(self, path):
        self.streams = {}
        with open(path, encoding="utf-8") as f:
            for raw in f:
                r = json.loads(raw)
                k = key(r["labels"])
                st = self.streams.setdefault(k, (r["labels"], [], []))
                st[1].append(r["ts"])
                st[2].append((r["ts"], r["labels"], r["line"], r["metadata"]))
        for labels, times, entries in self.streams.values():
            order = sorted(range(len(times)), key=times.__getitem__)
            times[:] = [times[i] for i in order]
            entries[:] = [entries[i] for i in order]

    def select(self, matchers, lo, hi):
        """Per selected stream, its entries with lo <= ts <= hi, in time order."""
        out = []
        for labels, times, entries in self.streams.values():
            if all(matcher_ok(op, v, labels.get(n, "")) for n, op, v in matchers):
                a = bisect.bisect_left(times, lo)
                b = bisect.bisect_right(times, hi)
                if a < b:
                    out.append(entries[a:b])
        return out


# ---------------------------------------------------------------- evaluation

class QueryError(Exception):
    pass


def log_query(c, q, start, end, limit, backward):
    _, matchers, stages = q
    out = []
    # Every timestamp of the corpus is distinct: the order is total, and
    # reading in the asked direction can stop at `limit`.
    per_stream = c.select(matchers, start, end - 1)
    if backward:
        entries = heapq.merge(*[reversed(x) for x in per_stream], key=lambda e: -e[0])
    else:
        entries = heapq.merge(*per_stream, key=lambda e: e[0])
    for ts, stream, line, md in entries:
        r = run_pipeline(stages, ts, line, stream, md)
        if r is not None:
            out.append([r[1], str(ts), r[0]])
            if len(out) == limit:
                break
    return out


def key(lbs):
    return tuple(sorted(lbs.items()))


def rate_counter(samples, rng_ns):
    """Loki's rate_counter (pkg/logql/range_vector.go, extrapolatedRate):
    Prometheus's extrapolation, but the window is taken as [first sample -
    range, last sample], and with the range subtracted in milliseconds from
    nanosecond timestamps and every span divided by 1000. The mix is Loki's;
    we answer what Loki answers."""
    if len(samples) < 2:
        return 0.0
    t0, tn = samples[0][0], samples[-1][0]
    rng_ms = rng_ns // 10**6
    result = samples[-1][1] - samples[0][1]
    last = 0.0
    for _, v in samples:
        if v < last:
            result += last
        last = v
    to_start = float(rng_ms) / 1000
    to_end = 0.0
    sampled = float(tn - t0) / 1000
    avg = sampled / (len(samples) - 1)
    if result > 0 and samples[0][1] >= 0:
        zero = sampled * (samples[0][1] / result)
        if zero < to_start:
            to_start = zero
    thr = avg * 1.1
    ext = sampled
    ext += to_start if to_start < thr else avg / 2
    ext += to_end if to_end < thr else avg / 2
    result = result * (ext / sampled)
    return result / (rng_ns / 1e9)


def window_value(op, param, samples, rng):
    vals = [v for _, v in samples]
    n = len(vals)
    secs = rng / 1e9
    if op == "rate":
        # Lines per second, or with unwrap the values' sum per second
        # (Loki's rate(unwrapped-range)); a line's value here is 1.
        return sum_seq(vals) / secs
    if op == "count_over_time":
        return float(n)
    if op == "bytes_rate":
        return sum(vals) / secs
    if op in ("bytes_over_time", "sum_over_time"):
        return math.fsum(vals) if False else sum_seq(vals)
    if op == "avg_over_time":
        return sum_seq(vals) / n
    if op == "min_over_time":
        return min(vals)
    if op == "max_over_time":
        return max(vals)
    if op in ("stdvar_over_time", "stddev_over_time"):
        mean = sum_seq(vals) / n
        var = sum_seq([(v - mean) ** 2 for v in vals]) / n
        return var if op == "stdvar_over_time" else math.sqrt(var)
    if op == "quantile_over_time":
        return quantile(param, vals)
    if op == "first_over_time":
        return vals[0]
    if op == "last_over_time":
        return vals[-1]
    if op == "rate_counter":
        return rate_counter(samples, rng)
    raise QueryError(op)


def sum_seq(vals):
    s = 0.0
    for v in vals:
        s += v
    return s


def quantile(q, vals):
    if not vals:
        return float("nan")
    if q < 0:
        return float("-inf")
    if q > 1:
        return float("inf")
    vs = sorted(vals)
    rank = q * (len(vs) - 1)
    lo = max(0, math.floor(rank))
    hi = min(len(vs) - 1, lo + 1)
    w = rank - math.floor(rank)
    return vs[lo] * (1 - w) + vs[hi] * w


class Ev:
    def __init__(self, c, steps):
        self.c = c
        self.steps = steps

    def eval(self, e):
        """A node's value: ('scalar', [v per step]) or ('vector', {key: [v|None per step]})."""
        kind = e[0]
        if kind == "num":
            return ("scalar", [e[1]] * len(self.steps))
        if kind == "vector":
            return ("vector", {(): [e[1]] * len(self.steps)})
        if kind == "range":
            return ("vector", self.range(e))
        if kind == "agg":
            return ("vector", self.agg(e))
        if kind == "bin":
            return self.binary(e)
        if kind == "label_replace":
            return ("vector", self.label_replace(e))
        raise QueryError("cannot evaluate %r" % (kind,))

    def range(self, e):
        _, op, param, log, rng, offset, grouping = e
        _, matchers, stages = log
        lo = self.steps[0] - offset - rng + 1
        hi = self.steps[-1] - offset
        unwrap = any(s[0] == "unwrap" for s in stages)
        series = {}
        absent_seen = []
        for ts, stream, line, md in (e for part in self.c.select(matchers, lo, hi) for e in part):
            r = run_pipeline(stages, ts, line, stream, md)
            if r is None:
                continue
            out_line, lbs, value = r
            if op in ("bytes_rate", "bytes_over_time"):
                value = float(len(out_line.encode("utf-8")))
            elif not unwrap:
                value = 1.0
            lbs.pop(ERRD, None) if ERR not in lbs else None
            if grouping is not None and ERR not in lbs:
                without, names = grouping
                lbs = {k: v for k, v in lbs.items() if (k in names) != without}
            series.setdefault(key(lbs), []).append((ts, value))
            absent_seen.append(ts)
        out = {}
        for k, samples in series.items():
            samples.sort()
            times = [s[0] for s in samples]
            vals = []
            for t in self.steps:
                end = t - offset
                w = samples[bisect.bisect_right(times, end - rng):bisect.bisect_right(times, end)]
                if w and dict(k).get(ERR):
                    raise QueryError("pipeline error: %s" % dict(k)[ERR])
                if op == "absent_over_time":
                    vals.append(None)
                    continue
                vals.append(window_value(op, param, w, rng) if w else None)
            if any(v is not None for v in vals):
                out[k] = vals
        if op == "absent_over_time":
            vals = []
            absent_seen.sort()
            for t in self.steps:
                end = t - offset
                n_in = bisect.bisect_right(absent_seen, end) - bisect.bisect_right(absent_seen, end - rng)
                vals.append(None if n_in else 1.0)
            if any(v is not None for v in vals):
                lbs = {n: v for n, o, v in matchers if o == "="}
                return {key(lbs): vals}
            return {}
        return out

    def agg(self, e):
        _, op, param, grouping, inner = e
        kind, vec = self.eval(inner)
        if kind != "vector":
            raise QueryError("aggregation over a scalar")
        if op in ("sort", "sort_desc"):
            return vec
        out = {}
        n = len(self.steps)
        for i in range(n):
            groups = {}
            for k, vals in vec.items():
                if vals[i] is None:
                    continue
                lbs = dict(k)
                if grouping is None:
                    g = () if op not in ("topk", "bottomk") else ()
                else:
                    without, names = grouping
                    g = key({a: b for a, b in lbs.items() if (a in names) != without})
                groups.setdefault(g, []).append((k, vals[i]))
            for g, members in groups.items():
                vs = [v for _, v in members]
                if op in ("topk", "bottomk"):
                    kk = int(param)
                    # Largest (smallest) values; ties keep the first seen.
                    ranked = sorted(members, key=lambda m: (-m[1] if op == "topk" else m[1]))
                    for mk, mv in ranked[:kk]:
                        out.setdefault(mk, [None] * n)[i] = mv
                    continue
                if op == "sum":
                    v = sum_seq(vs)
                elif op == "avg":
                    v = sum_seq(vs) / len(vs)
                elif op == "min":
                    v = min(vs)
                elif op == "max":
                    v = max(vs)
                elif op == "count":
                    v = float(len(vs))
                else:
                    mean = sum_seq(vs) / len(vs)
                    var = sum_seq([(x - mean) ** 2 for x in vs]) / len(vs)
                    v = var if op == "stdvar" else math.sqrt(var)
                out.setdefault(g, [None] * n)[i] = v
        return out

    def label_replace(self, e):
        _, inner, dst, repl, src, regex = e
        kind, vec = self.eval(inner)
        out = {}
        for k, vals in vec.items():
            lbs = dict(k)
            m = re.fullmatch(regex, lbs.get(src, ""), re.ASCII | re.DOTALL)
            if m:
                v = re.sub(r"\$(\d+)|\$\{(\w+)\}", lambda x: m.group(int(x.group(1) or x.group(2)) if (x.group(1) or x.group(2)).isdigit() else x.group(2)) or "", repl)
                if v:
                    lbs[dst] = v
                else:
                    lbs.pop(dst, None)
            out[key(lbs)] = vals
        return out

    def binary(self, e):
        _, op, lhs, rhs, bool_, match = e
        l, r = self.eval(lhs), self.eval(rhs)
        n = len(self.steps)
        if l[0] == "scalar" and r[0] == "scalar":
            return ("scalar", [arith(op, a, b, True)[0] for a, b in zip(l[1], r[1])])
        if l[0] == "vector" and r[0] == "scalar":
            out = {}
            for k, vals in l[1].items():
                row = [None] * n
                for i in range(n):
                    if vals[i] is None:
                        continue
                    v, keep = arith(op, vals[i], r[1][i], bool_)
                    if keep:
                        row[i] = v
                out[k] = row
            return ("vector", {k: v for k, v in out.items() if any(x is not None for x in v)})
        if l[0] == "scalar":
            out = {}
            for k, vals in r[1].items():
                row = [None] * n
                for i in range(n):
                    if vals[i] is None:
                        continue
                    v, keep = arith(op, l[1][i], vals[i], bool_)
                    if keep:
                        row[i] = vals[i] if (is_cmp(op) and not bool_) else v
                out[k] = row
            return ("vector", {k: v for k, v in out.items() if any(x is not None for x in v)})
        return ("vector", self.vector_binary(op, l[1], r[1], bool_, match))

    def vector_binary(self, op, lv, rv, bool_, match):
        n = len(self.steps)

        def sig(k):
            lbs = dict(k)
            if match["on"] is True:
                return key({a: b for a, b in lbs.items() if a in match["labels"]})
            if match["on"] is False:
                return key({a: b for a, b in lbs.items() if a not in match["labels"]})
            return k
        out = {}
        if op in ("and", "or", "unless"):
            for i in range(n):
                rs = {sig(k) for k, v in rv.items() if v[i] is not None}
                ls = {sig(k) for k, v in lv.items() if v[i] is not None}
                for k, v in lv.items():
                    if v[i] is None:
                        continue
                    if op == "or" or (op == "and") == (sig(k) in rs):
                        out.setdefault(k, [None] * n)[i] = v[i]
                if op == "or":
                    for k, v in rv.items():
                        if v[i] is not None and sig(k) not in ls:
                            out.setdefault(k, [None] * n)[i] = v[i]
            return out
        group = match["group"]
        for i in range(n):
            one_side = rv if group != "group_right" else lv
            many_side = lv if group != "group_right" else rv
            idx = {}
            for k, v in one_side.items():
                if v[i] is None:
                    continue
                s = sig(k)
                if s in idx:
                    raise QueryError("found duplicate series for the match group")
                idx[s] = (k, v[i])
            seen = set()
            for k, v in many_side.items():
                if v[i] is None:
                    continue
                s = sig(k)
                if s not in idx:
                    continue
                ok, ov = idx[s]
                if group is None:
                    if s in seen:
                        raise QueryError("multiple matches for labels")
                    seen.add(s)
                a, b = (v[i], ov) if group != "group_right" else (ov, v[i])
                val, keep = arith(op, a, b, bool_)
                if not keep:
                    continue
                lbs = dict(k)
                if group is None:
                    if match["on"] is True:
                        lbs = {x: y for x, y in lbs.items() if x in match["labels"]}
                    elif match["on"] is False:
                        lbs = {x: y for x, y in lbs.items() if x not in match["labels"]}
                else:
                    o = dict(ok)
                    for name in match["include"]:
                        if name in o:
                            lbs[name] = o[name]
                        else:
                            lbs.pop(name, None)
                if is_cmp(op) and not bool_:
                    val = v[i] if group != "group_right" else ov
                out.setdefault(key(lbs), [None] * n)[i] = val
        return out


def is_cmp(op):
    return op in ("==", "!=", ">", "<", ">=", "<=")


def arith(op, a, b, bool_):
    if is_cmp(op):
        hit = {"==": a == b, "!=": a != b, ">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]
        if bool_:
            return (1.0 if hit else 0.0), True
        return a, hit
    if op == "+":
        return a + b, True
    if op == "-":
        return a - b, True
    if op == "*":
        return a * b, True
    if op == "/":
        if b == 0:
            return (float("nan") if a == 0 or a != a else math.copysign(float("inf"), a) * (1 if str(b)[0] != "-" else -1)), True
        return a / b, True
    if op == "%":
        return (math.fmod(a, b) if b != 0 else float("nan")), True
    if op == "^":
        return a ** b, True
    raise QueryError(op)


# ---------------------------------------------------------------- driver

def offset_ns(s):
    return go_duration(s)


def labels_json(k):
    return dict(k)


def fmt_value(v):
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def main():
    corpus_path, base, qpath = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    c = Corpus(corpus_path)
    results = []
    with open(qpath, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            raw = raw.rstrip("\n")
            if not raw.strip() or raw.lstrip().startswith("#"):
                continue
            head, q = raw.split(" :: ", 1)
            words = head.split()
            kind, opts = words[0], dict(w.split("=", 1) for w in words[1:])
            item = {"line": lineno, "kind": kind, "query": q, "params": {}}
            try:
                ast = P(q).query()
                if kind == "log":
                    start = base + offset_ns(opts.get("start", "0m"))
                    end = base + offset_ns(opts.get("end", "120m"))
                    limit = int(opts.get("limit", "100"))
                    direction = opts.get("dir", "backward")
                    item["params"] = {"start": str(start), "end": str(end), "limit": str(limit),
                                      "direction": direction}
                    if ast[0] != "log":
                        raise QueryError("not a log query")
                    item["expected"] = {"streams": log_query(c, ast, start, end, limit, direction == "backward")}
                else:
                    if kind == "instant":
                        t = base + offset_ns(opts["time"])
                        steps = [t]
                        item["params"] = {"time": str(t)}
                    else:
                        start = base + offset_ns(opts["start"])
                        end = base + offset_ns(opts["end"])
                        step = offset_ns(opts["step"])
                        steps = list(range(start, end + 1, step))
                        item["params"] = {"start": str(start), "end": str(end), "step": "%g" % (step / 1e9)}
                    kind_, val = Ev(c, steps).eval(ast)
                    if kind_ == "scalar":
                        item["expected"] = {"scalar": [steps[-1] / 1e9, fmt_value(val[-1])]}
                    elif kind == "instant":
                        vec = [{"metric": labels_json(k), "value": [steps[0] / 1e9, fmt_value(v[0])]}
                               for k, v in vec_items(val) if v[0] is not None]
                        if ast[0] == "agg" and ast[1] in ("sort", "sort_desc"):
                            vec.sort(key=lambda x: float(x["value"][1]), reverse=ast[1] == "sort_desc")
                            item["ordered"] = True
                        item["expected"] = {"vector": vec}
                    else:
                        item["expected"] = {"matrix": [
                            {"metric": labels_json(k),
                             "values": [[t / 1e9, fmt_value(x)] for t, x in zip(steps, v) if x is not None]}
                            for k, v in vec_items(val)]}
            except (QueryError, SyntaxError, re.error) as e:
                item["expected"] = {"error": str(e)}
            results.append(item)
    json.dump(results, sys.stdout, ensure_ascii=False)


def vec_items(val):
    return sorted(val.items())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A small TraceQL reference evaluator, written from the language's
documentation (and docs/traceql.md) and not from the Rust engine: it reads
traces.json and a query file and prints, for each search query, each
matching trace's spansets as sorted lists of span ids, and for each
metrics query ("START END STEP query", seconds from the traces' base
time) its series (JSON on stdout).

It is deliberately naive: span sets are Python sets of span ids,
relations are found by walking parent ids, nothing is compiled."""
import json
import math
import re
import sys

# ---------------------------------------------------------------- tokens

TOKEN_RE = re.compile(r"""
  (?P<ws>\s+)
| (?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)
| (?P<dur>(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+(?![A-Za-z]))
| (?P<num>\d+\.\d+|\d+|\.\d+)
| (?P<attr>(?:span|resource|event|link|instrumentation)?\.(?:"(?:[^"\\]|\\.)*"|[^\s{}()=~!<>&|^,"`])+)
| (?P<word>[A-Za-z_][A-Za-z0-9_:]*)
| (?P<op>!>>|!<<|&>>|&<<|!=|!~|!>|!<|&&|&>|&<|&~|\|\||=~|>>|<<|>=|<=|[{}(),|=><~!+\-*/%^])
""", re.X)

UNITS = {"ns": 1, "us": 1000, "µs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def tokenize(q):
    out, pos = [], 0
    while pos < len(q):
        m = TOKEN_RE.match(q, pos)
        if not m:
            raise SyntaxError("bad character at %d" % pos)
        pos = m.end()
        kind = m.lastgroup
        text = m.group()
        if kind == "ws":
            continue
        if kind == "str":
            text = json.loads(text) if text[0] == '"' else text[1:-1]
        elif kind == "dur":
            total = 0
            for n, u in re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", text):
                total += float(n) * UNITS[u]
            text = int(round(total))
        elif kind == "num":
            text = float(text) if "." in text else int(text)
        elif kind == "attr":
            scope, _, name = text.partition(".")
            # Quoted segments may follow bare ones: span.a."b c" is `a.b c`.
            name = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: json.loads(m.group()), name)
            text = (scope or "unscoped", name)
        out.append((kind, text))
    out.append(("eof", None))
    return out

# ---------------------------------------------------------------- parser
# Trees are tuples: ("filter", expr|None), ("sop", op, l, r), ("pipe", [stages]);
# field exprs: ("lit", value), ("attr", scope, name), ("intr", name),
# ("bin", op, l, r), ("not", e), ("neg", e).

STATUS = {"error", "ok", "unset"}
KINDS = {"unspecified", "internal", "server", "client", "producer", "consumer"}
INTRINSICS = {
    "name": "name", "span:name": "name", "status": "status", "span:status": "status",
    "statusMessage": "statusMessage", "span:statusMessage": "statusMessage",
    "kind": "kind", "span:kind": "kind", "duration": "duration", "span:duration": "duration",
    "rootName": "rootName", "trace:rootName": "rootName",
    "rootServiceName": "rootServiceName", "trace:rootService": "rootServiceName",
    "traceDuration": "traceDuration", "trace:duration": "traceDuration",
    "span:id": "spanId", "trace:id": "traceId", "span:parentID": "parentId",
    "span:childCount": "childCount",
    "event:name": "eventName", "event:timeSinceStart": "eventSince",
    "link:traceID": "linkTraceId", "link:spanID": "linkSpanId",
    "instrumentation:name": "scopeName", "instrumentation:version": "scopeVersion",
}
SPANSET_OPS = {">", ">>", "<", "<<", "~", "!>", "!>>", "!<", "!<<", "!~",
               "&>", "&>>", "&<", "&<<", "&~"}
CMP = {"=", "!=", ">", ">=", "<", "<=", "=~", "!~"}


class P:
    def __init__(self, q):
        self.t = tokenize(q)
        self.i = 0

    def peek(self):
        return self.t[self.i]

    def take(self, text=None):
        tok = self.t[self.i]
        if text is not None and tok[1] != text:
            raise SyntaxError("want %r got %r" % (text, tok))
        self.i += 1
        return tok

    def at(self, text):
        return self.t[self.i][0] in ("op", "word") and self.t[self.i][1] == text

    def query(self):
        stages = [("spanset", self.sor())]
        metrics = None
        while self.at("|"):
            self.take()
            w = self.peek()[1]
            if w in ("rate", "count_over_time", "quantile_over_time", "histogram_over_time",
                     "min_over_time", "max_over_time", "avg_over_time", "sum_over_time"):
                metrics = self.metrics()
                break
            stages.append(self.stage())
        if self.at("with"):
            # Query hints (`with (most_recent=true)`) change nothing here.
            while not self.at(")"):
                self.take()
            self.take()
        if self.peek()[0] != "eof":
            raise SyntaxError("trailing %r" % (self.peek(),))
        return stages, metrics

    def metrics(self):
        fn = self.take()[1]
        self.take("(")
        args = []
        while not self.at(")"):
            if args:
                self.take(",")
            args.append(self.fexpr() if not args else self.take()[1])
        self.take(")")
        by = []
        if self.at("by"):
            by = self.fields()
        return (fn, args, by)

    def fields(self):
        self.take()
        self.take("(")
        out = [self.fexpr()]
        while self.at(","):
            self.take()
            out.append(self.fexpr())
        self.take(")")
        return out

    def stage(self):
        if self.at("{") or self.at("("):
            return ("spanset", self.sor())
        w = self.peek()[1]
        if w in ("by", "select"):
            return (w, self.fields())
        if w == "coalesce":
            self.take(), self.take("("), self.take(")")
            return ("coalesce",)
        if w in ("count", "avg", "min", "max", "sum"):
            self.take()
            self.take("(")
            f = None if w == "count" else self.fexpr()
            self.take(")")
            op = self.take()[1]
            neg = 1
            if self.at("-"):
                self.take()
                neg = -1
            kind, v = self.take()
            v = v * neg
            return ("agg", w, f, op, ("dur", v) if kind == "dur" else ("num", v))
        raise SyntaxError("bad stage %r" % (w,))

    def sor(self):
        l = self.sand()
        while self.at("||"):
            self.take()
            l = ("sop", "||", l, self.sand())
        return l

    def sand(self):
        l = self.sstruct()
        while self.at("&&"):
            self.take()
            l = ("sop", "&&", l, self.sstruct())
        return l

    def sstruct(self):
        l = self.sprim()
        while self.peek()[0] == "op" and self.peek()[1] in SPANSET_OPS:
            op = self.take()[1]
            l = ("sop", op, l, self.sprim())
        return l

    def sprim(self):
        if self.at("{"):
            self.take()
            if self.at("}"):
                self.take()
                return ("filter", None)
            e = self.fexpr()
            self.take("}")
            return ("filter", e)
        self.take("(")
        stages = [("spanset", self.sor())]
        while self.at("|"):
            self.take()
            stages.append(self.stage())
        self.take(")")
        return ("pipe", stages)

    # field expressions, precedence climbing
    LEVELS = [["||"], ["&&"], sorted(CMP), ["+", "-"], ["*", "/", "%"]]

    def fexpr(self, level=0):
        if level == len(self.LEVELS):
            return self.fpow()
        l = self.fexpr(level + 1)
        ops = self.LEVELS[level]
        while self.peek()[0] == "op" and self.peek()[1] in ops:
            op = self.take()[1]
            l = ("bin", op, l, self.fexpr(level + 1))
            if ops is self.LEVELS[2]:
                break
        return l

    def fpow(self):
        l = self.funary()
        if self.at("^"):
            self.take()
            return ("bin", "^", l, self.fpow())
        return l

    def funary(self):
        if self.at("!"):
            self.take()
            return ("not", self.funary())
        if self.at("-"):
            self.take()
            return ("neg", self.funary())
        kind, v = self.take()
        if kind == "op" and v == "(":
            e = self.fexpr()
            self.take(")")
            return e
        if kind == "str":
            return ("lit", ("str", v))
        if kind == "num":
            return ("lit", ("float" if isinstance(v, float) else "int", v))
        if kind == "dur":
            return ("lit", ("dur", v))
        if kind == "attr":
            return ("attr", v[0], v[1])
        if kind == "word":
            if v in ("true", "false"):
                return ("lit", ("bool", v == "true"))
            if v == "nil":
                return ("lit", ("nil", None))
            if v == "minInt":
                return ("lit", ("int", -2**63))
            if v == "maxInt":
                return ("lit", ("int", 2**63 - 1))
            if v in STATUS:
                return ("lit", ("status", v))
            if v in KINDS:
                return ("lit", ("kind", v))
            if v in INTRINSICS:
                return ("intr", INTRINSICS[v])
        raise SyntaxError("unexpected %r" % ((kind, v),))

# ---------------------------------------------------------------- values


def typed(v):
    if v is None:
        return ("nil", None)
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, float):
        return ("float", v)
    if isinstance(v, str):
        return ("str", v)
    if isinstance(v, list):
        return ("array", [typed(x) for x in v])
    return ("other", None)


NUMERIC = ("int", "float", "dur")


def compare(op, a, b):
    ta, tb = a[0], b[0]
    if ta == "nil" or tb == "nil":
        # A missing value compares false, `!=` included.
        return False
    if ta == "array":
        # Any element may hold it; `!=` / `!~`: no element is equal / matches.
        if op == "!=":
            return not any(compare("=", x, b) for x in a[1])
        if op == "!~":
            return not any(compare("=~", x, b) for x in a[1])
        return any(compare(op, x, b) for x in a[1])
    if op in ("=~", "!~"):
        if ta not in ("str", "id") or tb != "str":
            return False
        m = re.fullmatch(b[1], a[1], re.S) is not None
        return m if op == "=~" else not m
    if ta in NUMERIC and tb in NUMERIC:
        x, y = a[1], b[1]
        return {"=": x == y, "!=": x != y, ">": x > y, ">=": x >= y, "<": x < y, "<=": x <= y}[op]
    if ta == "id" and tb == "str" or ta == "str" and tb == "id":
        if op not in ("=", "!="):
            return False
        eq = a[1].lower() == b[1].lower()
        return eq if op == "=" else not eq
    if ta != tb or ta == "other":
        return False
    if ta == "str":
        x, y = a[1], b[1]
        return {"=": x == y, "!=": x != y, ">": x > y, ">=": x >= y, "<": x < y, "<=": x <= y}[op]
    if op == "=":
        return a[1] == b[1]
    if op == "!=":
        return a[1] != b[1]
    return False


def arith(op, a, b):
    if a[0] not in NUMERIC or b[0] not in NUMERIC:
        return ("nil", None)
    x, y = a[1], b[1]
    if a[0] == "int" and b[0] == "int":
        if op == "+":
            return ("int", x + y)
        if op == "-":
            return ("int", x - y)
        if op == "*":
            return ("int", x * y)
        # Go's integer division and remainder truncate toward zero.
        if op == "%":
            return ("int", int(math.fmod(x, y))) if y else ("nil", None)
        if op == "/":
            return ("int", int(x / y)) if y else ("nil", None)
        if y >= 0:
            return ("int", x ** y)
        return ("float", float(x) ** float(y))
    x, y = float(x), float(y)
    if op == "^":
        return ("float", x ** y)
    if op in ("/", "%") and y == 0:
        return ("nil", None)
    r = {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else 0, "%": math.fmod(x, y) if y else 0}[op]
    if "dur" in (a[0], b[0]):
        return ("dur", int(r))
    return ("float", r)

# ---------------------------------------------------------------- trace


class Trace:
    def __init__(self, t):
        self.id = t["id"]
        self.spans = {s["id"]: s for s in t["spans"]}
        self.order = [s["id"] for s in t["spans"]]
        # A parent that is not in the trace makes the span a root of the tree.
        self.parent = {s["id"]: (s["parent"] if s["parent"] in self.spans else None)
                       for s in t["spans"]}
        roots = [s for s in t["spans"] if s["parent"] is None]
        roots.sort(key=lambda s: (s["start"], s["id"]))
        self.root = roots[0] if roots else None
        self.start = min(s["start"] for s in t["spans"])
        self.end = max(s["end"] for s in t["spans"])

    def ancestors(self, sid):
        out = []
        p = self.parent[sid]
        while p is not None and p not in out:
            out.append(p)
            p = self.parent[p]
        return out

    def children(self, sid):
        return [c for c in self.order if self.parent[c] == sid]


def field(e, tr, s, ev, lk):
    k = e[0]
    if k == "lit":
        return e[1]
    if k == "attr":
        scope, name = e[1], e[2]
        if scope == "span":
            return typed(s["attrs"].get(name))
        if scope == "resource":
            return typed(s["resource"].get(name))
        if scope == "unscoped":
            if name in s["attrs"]:
                return typed(s["attrs"][name])
            return typed(s["resource"].get(name))
        if scope == "event":
            return typed(ev["attrs"].get(name)) if ev else ("nil", None)
        if scope == "link":
            return typed(lk["attrs"].get(name)) if lk else ("nil", None)
        return ("nil", None)  # instrumentation attributes: none in the data
    if k == "intr":
        n = e[1]
        if n == "name":
            return ("str", s["name"])
        if n == "status":
            return ("status", s["status"])
        if n == "statusMessage":
            return ("str", s["statusMessage"])
        if n == "kind":
            return ("kind", s["kind"])
        if n == "duration":
            return ("dur", s["end"] - s["start"])
        if n == "rootName":
            return ("str", tr.root["name"]) if tr.root else ("nil", None)
        if n == "rootServiceName":
            return ("str", tr.root["resource"]["service.name"]) if tr.root else ("nil", None)
        if n == "traceDuration":
            return ("dur", tr.end - tr.start)
        if n == "spanId":
            return ("id", s["id"])
        if n == "traceId":
            return ("id", tr.id)
        if n == "parentId":
            return ("id", s["parent"]) if s["parent"] else ("nil", None)
        if n == "childCount":
            return ("int", len(tr.children(s["id"])))
        if n == "eventName":
            return ("str", ev["name"]) if ev else ("nil", None)
        if n == "eventSince":
            return ("dur", ev["time"] - s["start"]) if ev else ("nil", None)
        if n == "linkTraceId":
            return ("id", lk["traceId"]) if lk else ("nil", None)
        if n == "linkSpanId":
            return ("id", lk["spanId"]) if lk else ("nil", None)
        if n == "scopeName":
            return ("str", s["scope"]["name"])
        if n == "scopeVersion":
            return ("str", s["scope"]["version"])
    if k == "bin":
        op = e[1]
        if op == "&&":
            return ("bool", truthy(field(e[2], tr, s, ev, lk)) and truthy(field(e[3], tr, s, ev, lk)))
        if op == "||":
            return ("bool", truthy(field(e[2], tr, s, ev, lk)) or truthy(field(e[3], tr, s, ev, lk)))
        a, b = field(e[2], tr, s, ev, lk), field(e[3], tr, s, ev, lk)
        nil = ("lit", ("nil", None))
        if op in CMP and nil in (e[2], e[3]):
            # `x = nil` / `x != nil` test whether x is missing / present.
            other = b if e[2] == nil else a
            if op == "=":
                return ("bool", other[0] == "nil")
            if op == "!=":
                return ("bool", other[0] != "nil")
            return ("bool", False)
        if op in CMP:
            return ("bool", compare(op, a, b))
        return arith(op, a, b)
    if k == "not":
        v = field(e[1], tr, s, ev, lk)
        return ("bool", not v[1]) if v[0] == "bool" else ("nil", None)
    if k == "neg":
        v = field(e[1], tr, s, ev, lk)
        return (v[0], -v[1]) if v[0] in NUMERIC else ("nil", None)
    raise ValueError(e)


def truthy(v):
    return v == ("bool", True)


def mentions(e, what):
    if e[0] == "attr":
        return e[1] == what
    if e[0] == "intr":
        return e[1].startswith(what)
    if e[0] == "bin":
        return mentions(e[2], what) or mentions(e[3], what)
    if e[0] in ("not", "neg"):
        return mentions(e[1], what)
    return False


def span_matches(e, tr, s):
    # Event (link) conditions must hold for one and the same event (link).
    evs = s["events"] if mentions(e, "event") and s["events"] else [None]
    lks = s["links"] if mentions(e, "link") and s["links"] else [None]
    return any(truthy(field(e, tr, s, ev, lk)) for ev in evs for lk in lks)

# ---------------------------------------------------------------- spansets
# A spanset here is a dict: {"spans": set of ids, "by": tuple}.


def related(op, tr, left, right):
    """Spans of `right` standing in `op` to some span of `left`."""
    out = set()
    for b in right:
        if op == ">":
            ok = tr.parent[b] in left
        elif op == "<":
            ok = any(tr.parent[a] == b for a in left)
        elif op == ">>":
            ok = any(x in left for x in tr.ancestors(b))
        elif op == "<<":
            ok = any(b in tr.ancestors(a) for a in left)
        elif op == "~":
            ok = tr.parent[b] is not None and any(
                a != b and tr.parent[a] == tr.parent[b] for a in left)
        else:
            raise ValueError(op)
        if ok:
            out.add(b)
    return out


INVERSE = {">": "<", "<": ">", ">>": "<<", "<<": ">>", "~": "~"}


def spanset_op(op, tr, l, r):
    if op == "&&":
        return l | r if l and r else set()
    if op == "||":
        return l | r
    if op in (">", "<", ">>", "<<", "~"):
        return related(op, tr, l, r)
    if op.startswith("!"):
        return r - related(op[1:], tr, l, r)
    if op.startswith("&"):
        base = op[1:]
        return related(base, tr, l, r) | related(INVERSE[base], tr, r, l)
    raise ValueError(op)


def eval_sexpr(e, tr, inp):
    if e[0] == "filter":
        if e[1] is None:
            return [dict(inp)]
        got = {sid for sid in inp["spans"] if span_matches(e[1], tr, tr.spans[sid])}
        return [{"spans": got, "by": inp["by"]}] if got else []
    if e[0] == "pipe":
        return run_stages(e[1], tr, [inp])
    op, le, re_ = e[1], e[2], e[3]
    ls = eval_sexpr(le, tr, inp)
    rs = eval_sexpr(re_, tr, inp)
    # Each side's spansets count together; the answer is one spanset.
    lspans = set().union(*[s["spans"] for s in ls])
    rspans = set().union(*[s["spans"] for s in rs])
    got = spanset_op(op, tr, lspans, rspans)
    return [{"spans": got, "by": inp["by"]}] if got else []


def agg_value(fn, f, tr, spans):
    if fn == "count":
        return len(spans)
    vals = []
    for sid in spans:
        s = tr.spans[sid]
        v = field(f, tr, s, (s["events"] or [None])[0], (s["links"] or [None])[0])
        if v[0] in NUMERIC:
            vals.append(v[1])
    if not vals:
        return None
    return {"avg": sum(vals) / len(vals), "min": min(vals), "max": max(vals), "sum": sum(vals)}[fn]


def run_stages(stages, tr, sets):
    for st in stages:
        kind = st[0]
        if kind == "spanset":
            sets = [o for s in sets for o in eval_sexpr(st[1], tr, s)]
        elif kind == "agg":
            _, fn, f, op, (_, lit) = st
            keep = []
            for s in sets:
                v = agg_value(fn, f, tr, s["spans"])
                if v is not None and compare(op, ("float", float(v)), ("float", float(lit))):
                    keep.append(s)
            sets = keep
        elif kind == "by":
            out = []
            for s in sets:
                groups = {}
                for sid in sorted(s["spans"]):
                    sp = tr.spans[sid]
                    key = tuple(field(f, tr, sp, (sp["events"] or [None])[0],
                                      (sp["links"] or [None])[0]) for f in st[1])
                    groups.setdefault(key, set()).add(sid)
                for key, g in groups.items():
                    out.append({"spans": g, "by": s["by"] + key})
            sets = out
        elif kind == "select":
            pass
        elif kind == "coalesce":
            merged = set()
            for s in sets:
                merged |= s["spans"]
            sets = [{"spans": merged, "by": ()}] if sets else []
    return [s for s in sets if s["spans"]]


# ---------------------------------------------------------------- metrics

PREFIX = {"span": "span.", "resource": "resource.", "unscoped": ".", "event": "event.",
          "link": "link.", "instrumentation": "instrumentation."}
PLAIN = {"name": "name", "status": "status", "kind": "kind", "duration": "duration",
         "statusMessage": "statusMessage", "rootName": "rootName",
         "rootServiceName": "rootServiceName"}


def label_name(f):
    if f[0] == "attr":
        return PREFIX[f[1]] + f[2]
    return PLAIN[f[1]]


def log2_bucket(x):
    return 0.0 if x <= 0 else 2.0 ** math.ceil(math.log2(x))


def metrics_answer(traces, stages, metrics, start, end, step):
    """Tempo's intervals: points at every multiple of the step from the
    aligned start to the aligned end; the point at t counts the spans that
    started in (t - step, t]."""
    fn, args, by = metrics
    instant = end - start == step
    if instant:
        # One point, at end, for the spans started in [start, end].
        first = last = end
    else:
        first = start // step * step
        last = -(-end // step) * step
    n = (last - first) // step + 1
    fexpr = args[0] if args else None
    series = {}
    for tr in traces:
        sets = run_stages(stages, tr, [{"spans": set(tr.order), "by": ()}])
        for sid in set().union(*[s["spans"] for s in sets]):
            s = tr.spans[sid]
            ts = s["start"]
            if instant:
                if not start <= ts <= end:
                    continue
                k = 0
            elif not first - step < ts <= last:
                continue
            else:
                k = 0 if ts <= first else -(-(ts - first) // step)
            ev, lk = (s["events"] or [None])[0], (s["links"] or [None])[0]
            val, is_dur = None, False
            if fexpr is not None:
                v = field(fexpr, tr, s, ev, lk)
                if v[0] == "dur":
                    val, is_dur = v[1] / 1e9, True
                elif v[0] in ("int", "float"):
                    val = float(v[1])
                else:
                    continue
            labels = []
            if not by and fn not in ("histogram_over_time", "quantile_over_time"):
                labels.append(["__name__", ["str", fn]])
            values = [(label_name(f), field(f, tr, s, ev, lk)) for f in by]
            present = [[name, list(v)] for name, v in values if v[0] != "nil"]
            if by and not present:
                present = [[label_name(by[0]), ["nil", None]]]
            labels += present
            if fn == "histogram_over_time":
                b = log2_bucket(round(val * 1e9)) / 1e9 if is_dur else log2_bucket(val)
                labels.append(["__bucket", ["float", b]])
            key = json.dumps(labels)
            entry = series.setdefault(key, (labels, [0] * n, [[] for _ in range(n)]))
            entry[1][k] += 1
            if val is not None:
                entry[2][k].append(val)
    out = []
    ts_ms = [(first + i * step) // 10**6 for i in range(n)]
    for labels, counts, values in series.values():
        def dense(f):
            return [[ts_ms[i], f(i)] for i in range(n)]

        def sparse(f):
            return [[ts_ms[i], f(values[i])] for i in range(n) if values[i]]
        if fn == "rate":
            out.append({"labels": labels, "samples": dense(lambda i: counts[i] / (step / 1e9))})
        elif fn in ("count_over_time", "histogram_over_time"):
            out.append({"labels": labels, "samples": dense(lambda i: float(counts[i]))})
        elif fn == "min_over_time":
            out.append({"labels": labels, "samples": sparse(min)})
        elif fn == "max_over_time":
            out.append({"labels": labels, "samples": sparse(max)})
        elif fn == "sum_over_time":
            out.append({"labels": labels, "samples": sparse(sum)})
        elif fn == "avg_over_time":
            out.append({"labels": labels, "samples": sparse(lambda v: sum(v) / len(v))})
        elif fn == "quantile_over_time":
            for q in args[1:]:
                def quant(v, q=float(q)):
                    v = sorted(v)
                    rank = q * (len(v) - 1)
                    lo, hi = math.floor(rank), math.ceil(rank)
                    return v[lo] + (v[hi] - v[lo]) * (rank - lo)
                out.append({"labels": labels + [["p", ["float", float(q)]]], "samples": sparse(quant)})
    return out


def main():
    data = json.load(open(sys.argv[1]))
    queries = [l.strip() for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")]
    traces = [Trace(t) for t in data["traces"]]
    result = {}
    base = data["base_ns"]
    for q in queries:
        if q[0].isdigit():
            # A metrics query: "START END STEP query", seconds from base_ns.
            start, end, step, q = q.split(" ", 3)
            stages, metrics = P(q).query()
            result[" ".join((start, end, step, q))] = metrics_answer(
                traces, stages, metrics, base + int(start) * 10**9,
                base + int(end) * 10**9, int(step) * 10**9)
            continue
        stages, metrics = P(q).query()
        assert metrics is None, "a search query"
        per = {}
        for tr in traces:
            sets = run_stages(stages, tr, [{"spans": set(tr.order), "by": ()}])
            if sets:
                per[tr.id] = sorted(sorted(s["spans"]) for s in sets)
        result[q] = per
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()

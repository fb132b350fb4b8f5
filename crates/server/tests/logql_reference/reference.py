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

Usage: python3 reference.py CORPUS.ndjson BASE_NS QUERIES.txt > expected.json
"""
import bisect
import functools
import heapq
import json
import math
import re
import sys

# ---------------------------------------------------------------- values


def go_unquote(s):
    out, i = [], 0
    esc = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a",
           "b": "\b", "f": "\f", "v": "\v"}
    while i < len(s):
        c = s[i]
        if c == "\\":
            n = s[i + 1]
            if n in esc:
                out.append(esc[n])
                i += 2
            elif n == "x":
                out.append(chr(int(s[i + 2:i + 4], 16)))
                i += 4
            elif n == "u":
                out.append(chr(int(s[i + 2:i + 6], 16)))
                i += 6
            else:
                raise ValueError("bad escape \\%s" % n)
        else:
            out.append(c)
            i += 1
    return "".join(out)


DUR_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
             "h": 3600 * 10**9}
PROM_UNITS = dict(DUR_UNITS, d=86400 * 10**9, w=7 * 86400 * 10**9, y=365 * 86400 * 10**9)


def go_duration(s):
    """Go's time.ParseDuration, in nanoseconds (exact)."""
    orig = s
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError("invalid duration %r" % orig)
    total = 0
    while s:
        m = re.match(r"(\d*)(?:\.(\d*))?", s)
        ip, fp = m.group(1), m.group(2) or ""
        if not ip and not fp:
            raise ValueError("invalid duration %r" % orig)
        s = s[m.end():]
        u = re.match(r"ns|us|µs|μs|ms|s|m|h", s)
        if not u:
            raise ValueError("missing unit in duration %r" % orig)
        unit = DUR_UNITS[u.group(0)]
        s = s[u.end():]
        v = int(ip or "0") * unit
        if fp:
            # Go scales the fraction exactly, truncating below a nanosecond.
            v += int(fp) * unit // (10 ** len(fp))
        total += v
    return -total if neg else total


def prom_duration(s):
    total = 0
    for num, unit in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", s):
        total += int(num) * PROM_UNITS[unit]
    return total


def duration_seconds(ns):
    # time.Duration.Seconds(): whole seconds plus the rest, as Go computes it.
    sec, nsec = int(ns / 10**9), ns - int(ns / 10**9) * 10**9
    return float(sec) + float(nsec) / 1e9


BYTE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "ki": 1024, "kib": 1024, "m": 1000**2, "mb": 1000**2,
              "mi": 1024**2, "mib": 1024**2, "g": 1000**3, "gb": 1000**3, "gi": 1024**3, "gib": 1024**3,
              "t": 1000**4, "tb": 1000**4, "ti": 1024**4, "tib": 1024**4}


def parse_bytes(s):
    """go-humanize's ParseBytes: a number, optional spaces, a unit."""
    m = re.fullmatch(r"([0-9.,]*[0-9]+)\s*([A-Za-z]*)", s.strip())
    if not m:
        raise ValueError("bad bytes %r" % s)
    unit = m.group(2).lower()
    if unit not in BYTE_UNITS:
        raise ValueError("unhandled size name: %s" % unit)
    return int(float(m.group(1).replace(",", "")) * BYTE_UNITS[unit])


def parse_float(s):
    """strconv.ParseFloat for the shapes our corpus holds."""
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?|[-+]?(?i:inf|infinity|nan)", s):
        raise ValueError("strconv.ParseFloat: parsing %r: invalid syntax" % s)
    return float(s)


def fmt_float(v):
    """A float as Go's strconv.FormatFloat(v, 'f', -1, 64) would round-trip."""
    return repr(float(v))


NOT_LABEL_CHAR = re.compile(r"[^a-zA-Z0-9_]")


@functools.lru_cache(maxsize=None)
def sanitize(key):
    out = NOT_LABEL_CHAR.sub("_", key)
    if out and out[0].isdigit():
        out = "_" + out
    return out


# ---------------------------------------------------------------- lexer

TOKEN = re.compile(r"""
 (?P<ws>\s+)
|(?P<str>"(?:[^"\\]|\\.)*")
|(?P<raw>`[^`]*`)
|(?P<flag>--[a-z-]+)
|(?P<num>\d+(?:\.\d+)?(?:[a-zA-Zµ]+\d*(?:\.\d+)?)*[a-zA-Zµ]*)
|(?P<ident>[a-zA-Z_][a-zA-Z0-9_]*)
|(?P<op>\|=|\|~|\|>|!=|!~|!>|==|=~|>=|<=|[=<>|(){}\[\],+\-*/%^])
""", re.X)


def lex(q):
    toks, i = [], 0
    while i < len(q):
        m = TOKEN.match(q, i)
        if not m:
            raise SyntaxError("unexpected %r at %d" % (q[i], i))
        i = m.end()
        kind = m.lastgroup
        text = m.group(0)
        if kind == "ws":
            continue
        if kind == "str":
            toks.append(("str", go_unquote(text[1:-1])))
        elif kind == "raw":
            toks.append(("str", text[1:-1]))
        else:
            toks.append((kind, text))
    toks.append(("eof", ""))
    return toks


def literal(text):
    """A number token: a plain number, a duration or a byte size."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return ("num", float(text))
    try:
        return ("dur", go_duration(text))
    except ValueError:
        pass
    return ("bytes", parse_bytes(text))


# ---------------------------------------------------------------- parser

RANGE_OPS = {"rate", "rate_counter", "count_over_time", "bytes_rate", "bytes_over_time",
             "absent_over_time", "sum_over_time", "avg_over_time", "min_over_time", "max_over_time",
             "stddev_over_time", "stdvar_over_time", "quantile_over_time", "first_over_time",
             "last_over_time"}
VEC_OPS = {"sum", "avg", "min", "max", "count", "stddev", "stdvar", "topk", "bottomk", "sort", "sort_desc"}
PREC = [("or",), ("and", "unless"), ("==", "!=", ">", "<", ">=", "<="), ("+", "-"), ("*", "/", "%"), ("^",)]


class P:
    def __init__(self, q):
        self.t = lex(q)
        self.i = 0

    def peek(self, k=0):
        return self.t[self.i + k]

    def next(self):
        tok = self.t[self.i]
        self.i += 1
        return tok

    def accept(self, text):
        if self.peek()[1] == text and self.peek()[0] in ("op", "ident", "flag"):
            self.i += 1
            return True
        return False

    def expect(self, text):
        if not self.accept(text):
            raise SyntaxError("expected %r, got %r" % (text, self.peek()))

    def string(self):
        k, v = self.next()
        if k != "str":
            raise SyntaxError("expected a string, got %r" % v)
        return v

    def ident(self):
        k, v = self.next()
        if k != "ident":
            raise SyntaxError("expected a name, got %r" % v)
        return v

    # ---- expressions
    def query(self):
        e = self.expr(0)
        if self.peek()[0] != "eof":
            raise SyntaxError("trailing %r" % (self.peek(),))
        return e

    def expr(self, level):
        if level == len(PREC):
            return self.unary()
        lhs = self.expr(level + 1)
        while self.peek()[1] in PREC[level] and self.peek()[0] in ("op", "ident"):
            op = self.next()[1]
            bool_ = self.accept("bool")
            match = {"on": None, "labels": [], "group": None, "include": []}
            for kw in ("on", "ignoring"):
                if self.accept(kw):
                    match["on"] = kw == "on"
                    match["labels"] = self.names()
            for kw in ("group_left", "group_right"):
                if self.accept(kw):
                    match["group"] = kw
                    if self.peek()[1] == "(":
                        match["include"] = self.names()
            rhs = self.expr(level + 1) if op != "^" else self.expr(level)
            lhs = ("bin", op, lhs, rhs, bool_, match)
        return lhs

    def names(self):
        self.expect("(")
        out = []
        while not self.accept(")"):
            out.append(self.ident())
            self.accept(",")
        return out

    def unary(self):
        k, v = self.peek()
        if k == "op" and v == "(":
            self.next()
            e = self.expr(0)
            self.expect(")")
            return e
        if k == "op" and v == "-":
            self.next()
            return ("bin", "*", ("num", -1.0), self.unary(), False, {"on": None, "labels": [], "group": None, "include": []})
        if k == "num":
            self.next()
            return ("num", float(v))
        if k == "op" and v == "{":
            return self.log_expr()
        if k == "ident":
            if v in RANGE_OPS:
                return self.range_agg()
            if v in VEC_OPS:
                return self.vec_agg()
            if v == "vector":
                self.next()
                self.expect("(")
                n = float(self.next()[1])
                self.expect(")")
                return ("vector", n)
            if v == "label_replace":
                self.next()
                self.expect("(")
                inner = self.expr(0)
                args = []
                for _ in range(4):
                    self.expect(",")
                    args.append(self.string())
                self.expect(")")
                return ("label_replace", inner) + tuple(args)
        raise SyntaxError("unexpected %r" % v)

    def grouping(self):
        for kw in ("by", "without"):
            if self.accept(kw):
                return (kw == "without", self.names())
        return None

    def range_agg(self):
        op = self.next()[1]
        self.expect("(")
        param = None
        if op == "quantile_over_time":
            param = float(self.next()[1])
            self.expect(",")
        log = self.log_expr()
        self.expect("[")
        rng = prom_duration(self.next()[1])
        self.expect("]")
        offset = 0
        if self.accept("offset"):
            offset = prom_duration(self.next()[1])
        self.expect(")")
        grouping = self.grouping()
        return ("range", op, param, log, rng, offset, grouping)

    def vec_agg(self):
        op = self.next()[1]
        grouping = self.grouping()
        self.expect("(")
        param = None
        if op in ("topk", "bottomk"):
            param = float(self.next()[1])
            self.expect(",")
        inner = self.expr(0)
        self.expect(")")
        if grouping is None:
            grouping = self.grouping()
        return ("agg", op, param, grouping, inner)

    # ---- log expressions
    def log_expr(self):
        self.expect("{")
        matchers = []
        while not self.accept("}"):
            name = self.ident()
            op = self.next()[1]
            matchers.append((name, op, self.string()))
            self.accept(",")
        if all(matcher_ok(op, v, "") for _, op, v in matchers):
            raise SyntaxError("queries require at least one regexp or equality matcher that does not "
                              "have an empty-compatible value")
        stages = []
        while True:
            k, v = self.peek()
            if k == "op" and v in ("|=", "!=", "|~", "!~", "|>", "!>"):
                self.next()
                vals = [self.filter_value()]
                while self.accept("or"):
                    vals.append(self.filter_value())
                stages.append(("line", v, vals))
            elif k == "op" and v == "|":
                self.next()
                stages.append(self.stage())
            else:
                break
        return ("log", matchers, stages)

    def filter_value(self):
        if self.accept("ip"):
            self.expect("(")
            s = self.string()
            self.expect(")")
            return ("ip", s)
        return ("text", self.string())

    def stage(self):
        k, v = self.peek()
        if v == "json" or v == "logfmt":
            self.next()
            flags = set()
            while self.peek()[0] == "flag":
                flags.add(self.next()[1])
            params = []
            while self.peek()[0] == "ident" and self.peek(1)[1] in ("=", ",", "|", ")", "[") or (
                    self.peek()[0] == "ident" and self.peek(1)[0] == "eof"):
                name = self.ident()
                expr = name
                if self.accept("="):
                    expr = self.string()
                params.append((name, expr))
                if not self.accept(","):
                    break
            return (v, flags, params)
        if v in ("regexp", "pattern", "line_format"):
            self.next()
            return (v, self.string())
        if v in ("unpack", "decolorize"):
            self.next()
            return (v,)
        if v == "label_format":
            self.next()
            out = []
            while True:
                dst = self.ident()
                self.expect("=")
                if self.peek()[0] == "str":
                    out.append(("tmpl", dst, self.string()))
                else:
                    out.append(("rename", dst, self.ident()))
                if not self.accept(","):
                    break
            return ("label_format", out)
        if v in ("drop", "keep"):
            self.next()
            out = []
            while True:
                name = self.ident()
                m = None
                if self.peek()[1] in ("=", "!=", "=~", "!~"):
                    op = self.next()[1]
                    m = (op, self.string())
                out.append((name, m))
                if not self.accept(","):
                    break
            return (v, out)
        if v == "unwrap":
            self.next()
            conv = None
            if self.peek()[1] in ("duration", "duration_seconds", "bytes") and self.peek(1)[1] == "(":
                conv = self.next()[1]
                self.expect("(")
                name = self.ident()
                self.expect(")")
            else:
                name = self.ident()
            return ("unwrap", name, conv)
        return ("filter", self.label_filter())

    def label_filter(self):
        lhs = self.lf_and()
        while self.accept("or"):
            lhs = ("or", lhs, self.lf_and())
        return lhs

    def lf_and(self):
        lhs = self.lf_atom()
        while True:
            if self.accept("and") or self.accept(","):
                lhs = ("and", lhs, self.lf_atom())
            elif self.peek()[0] == "ident" and self.peek(1)[1] in ("=", "!=", "=~", "!~", ">", ">=", "<", "<=", "=="):
                # `| a="x" b="y"`: whitespace joins filters as `and`.
                lhs = ("and", lhs, self.lf_atom())
            else:
                return lhs

    def lf_atom(self):
        if self.accept("("):
            e = self.label_filter()
            self.expect(")")
            return e
        name = self.ident()
        op = self.next()[1]
        k, v = self.peek()
        if k == "ident" and v == "ip":
            self.next()
            self.expect("(")
            pat = self.string()
            self.expect(")")
            return ("ipf", name, op, pat)
        self.next()
        if k == "str":
            return ("str", name, op, v)
        kind, val = literal(v)
        return (kind, name, op, val)


# ---------------------------------------------------------------- ip

def ip_int(s):
    parts = s.split(".")
    if len(parts) != 4 or not all(p.isdigit() and int(p) < 256 for p in parts):
        return None
    return sum(int(p) << (8 * (3 - i)) for i, p in enumerate(parts))


def ip_matcher(pat):
    """ip("a.b.c.d"), ip("a.b.c.d/n") or ip("a.b.c.d-e.f.g.h"), IPv4 only."""
    if "/" in pat:
        net, bits = pat.split("/")
        base, bits = ip_int(net), int(bits)
        mask = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
        return lambda x: (x & mask) == (base & mask)
    if "-" in pat:
        a, b = (ip_int(x) for x in pat.split("-"))
        return lambda x: a <= x <= b
    one = ip_int(pat)
    return lambda x: x == one


IP_IN_LINE = re.compile(r"(?<![0-9.])(\d{1,3}(?:\.\d{1,3}){3})(?![0-9])")


def line_has_ip(line, m):
    for cand in IP_IN_LINE.findall(line):
        x = ip_int(cand)
        if x is not None and m(x):
            return True
    return False


# ---------------------------------------------------------------- templates

def go_text(v):
    """A value as Go's text/template prints it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if v == int(v) and abs(v) < 1e21:
            return str(int(v))
        r = repr(v)
        if "e" in r:
            mant, exp = r.split("e")
            return "%se%s%02d" % (mant, "-" if exp.startswith("-") else "+", abs(int(exp)))
        return r
    return str(v)


def to_int(v):
    if v is None:
        return 0
    if isinstance(v, str):
        try:
            return int(float(v)) if "." in v else int(v)
        except ValueError:
            return 0
    return int(v)


def to_float(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0


def go_repl(repl):
    """Go's regexp replacement ($1, ${1}, ${name}) in Python's syntax."""
    return re.sub(r"\$\{(\w+)\}|\$(\d+)", lambda m: "\\g<%s>" % (m.group(1) or m.group(2)),
                  repl.replace("\\", "\\\\"))


def title(s):
    # strings.Title: the first letter of each word upper-cased.
    return re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), s)


FUNCS = {
    "ToUpper": lambda s: s.upper(), "ToLower": lambda s: s.lower(),
    "upper": lambda s: s.upper(), "lower": lambda s: s.lower(), "title": title,
    "TrimSpace": lambda s: s.strip(" \t\n\r\v\f"), "trim": lambda s: s.strip(" \t\n\r\v\f"),
    "TrimPrefix": lambda s, p: s[len(p):] if s.startswith(p) else s,
    "TrimSuffix": lambda s, p: s[:-len(p)] if p and s.endswith(p) else s,
    "trimPrefix": lambda p, s: s[len(p):] if s.startswith(p) else s,
    "trimSuffix": lambda p, s: s[:-len(p)] if p and s.endswith(p) else s,
    "replace": lambda old, new, s: s.replace(old, new),
    "Replace": lambda s, old, new, n: s.replace(old, new) if int(n) < 0 else s.replace(old, new, int(n)),
    "trunc": lambda n, s: (s[:int(n)] if int(n) >= 0 else s[int(n):]) if len(s) > abs(int(n)) else s,
    "substr": lambda a, b, s: s[int(a):int(b)] if 0 <= int(a) <= int(b) <= len(s) else (s[int(a):] if int(b) < 0 or int(b) > len(s) else s),
    "default": lambda d, s=None: s if s not in (None, "", 0, False) else d,
    "len": lambda s: len(s.encode("utf-8")),
    "hasPrefix": lambda p, s: s.startswith(p), "hasSuffix": lambda p, s: s.endswith(p),
    "contains": lambda sub, s: sub in s,
    "eq": lambda a, *b: any(a == x for x in b), "ne": lambda a, b: a != b,
    "regexReplaceAll": lambda rx, s, repl: re.sub(rx, go_repl(repl), s, flags=re.ASCII),
    "add": lambda *a: sum(to_int(x) for x in a), "sub": lambda a, b: to_int(a) - to_int(b),
    "mul": lambda *a: functools.reduce(lambda x, y: x * y, (to_int(x) for x in a), 1),
    "addf": lambda *a: sum(to_float(x) for x in a),
    "mulf": lambda *a: functools.reduce(lambda x, y: x * y, (to_float(x) for x in a), 1.0),
    "float64": to_float, "int": to_int,
}


def tmpl_parse(tmpl):
    """Text and actions as a tree: ('text', s), ('action', pipeline) and
    ('if', pipeline, then, else)."""
    items, i = [], 0
    while True:
        j = tmpl.find("{{", i)
        if j < 0:
            items.append(("text", tmpl[i:]))
            break
        k = tmpl.index("}}", j)
        action = tmpl[j + 2:k]
        text = tmpl[i:j]
        i = k + 2
        if action.startswith("-"):
            text = text.rstrip()
            action = action[1:]
        if action.endswith("-"):
            action = action[:-1]
            rest = tmpl[i:]
            i += len(rest) - len(rest.lstrip())
        items.append(("text", text))
        items.append(("action", action.strip()))

    def block(pos):
        out = []
        while pos < len(items):
            kind, v = items[pos]
            if kind == "action" and (v == "end" or v == "else"):
                return out, pos
            if kind == "action" and v.startswith("if "):
                then, pos = block(pos + 1)
                other = []
                if items[pos][1] == "else":
                    other, pos = block(pos + 1)
                out.append(("if", v[3:], then, other))
            else:
                out.append(items[pos])
            pos += 1
        return out, pos
    return block(0)[0]


def render(tmpl, labels, line):
    return "".join(exec_nodes(tmpl_parse(tmpl), labels, line))


def exec_nodes(nodes, labels, line):
    out = []
    for n in nodes:
        if n[0] == "text":
            out.append(n[1])
        elif n[0] == "action":
            out.append(go_text(pipeline_value(n[1], labels, line)))
        else:
            cond = pipeline_value(n[1], labels, line)
            out.extend(exec_nodes(n[2] if cond not in (None, "", 0, False) else n[3], labels, line))
    return out


def pipeline_value(action, labels, line):
    val = None
    first = True
    for cmd in split_pipe(action):
        words = tmpl_words(cmd)
        # A missing key reaches a function as nil (Go passes the zero value).
        args = [None if isinstance(a, NoValue) else a
                for a in (tmpl_value(w, labels, line) for w in words[1:])]
        if words[0] in FUNCS:
            if not first:
                args.append(None if isinstance(val, NoValue) else val)
            val = FUNCS[words[0]](*args)
        else:
            val = tmpl_value(words[0], labels, line)
        first = False
    return val


def split_pipe(action):
    parts, cur, q = [], "", False
    for c in action:
        if c == '"':
            q = not q
        if c == "|" and not q:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    return [p.strip() for p in parts]


def tmpl_words(cmd):
    return re.findall(r'"(?:[^"\\]|\\.)*"|\S+', cmd)


def tmpl_value(w, labels, line):
    if w.startswith('"'):
        return go_unquote(w[1:-1])
    if w.startswith("."):
        # A missing key: nothing (Go's template prints it as "<no value>").
        return labels.get(w[1:], NO_VALUE)
    if w == "__line__":
        return line
    if re.fullmatch(r"-?\d+", w):
        return int(w)
    if re.fullmatch(r"-?\d+\.\d+", w):
        return float(w)
    raise ValueError("template word %r" % w)


class NoValue(str):
    """A missing map key: prints as Go prints it, empty to functions."""


NO_VALUE = NoValue("<no value>")


# ---------------------------------------------------------------- pipeline

ERR = "__error__"
ERRD = "__error_details__"
ANSI_RE = re.compile(r"\x1b\[[0-9;]*[a-zA-Z]")


def set_err(lbs, err):
    if ERR not in lbs:
        lbs[ERR] = err
        lbs[ERRD] = "*"


def add_parsed(lbs, stream, key, val):
    if key in stream:
        key = key + "_extracted"
    lbs[key] = val


class Num:
    """A JSON number kept as its text, as Loki's json parser keeps it."""

    def __init__(self, raw):
        self.raw = raw


class Raw:
    """An object or array with the text it was read from: a json parameter
    naming one gets that text, byte for byte (Loki hands out the raw value)."""

    def __init__(self, value, text):
        self.value = value
        self.text = text


def json_value(s, i):
    """One JSON value of `s` at `i`: (value, end). Objects are dicts of
    Raw/Num/str/bool/None wrapped in Raw, arrays lists wrapped in Raw."""
    ws = " \t\n\r"
    while i < len(s) and s[i] in ws:
        i += 1
    if i >= len(s):
        raise ValueError("unexpected end")
    c = s[i]
    if c == "{":
        out, j = {}, i + 1
        while True:
            while j < len(s) and s[j] in ws:
                j += 1
            if j < len(s) and s[j] == "}" and not out:
                j += 1
                break
            k, j = json_value(s, j)
            if not isinstance(k, str):
                raise ValueError("object key")
            while j < len(s) and s[j] in ws:
                j += 1
            if j >= len(s) or s[j] != ":":
                raise ValueError("expected :")
            v, j = json_value(s, j + 1)
            out[k] = v
            while j < len(s) and s[j] in ws:
                j += 1
            if j < len(s) and s[j] == ",":
                j += 1
                continue
            if j < len(s) and s[j] == "}":
                j += 1
                break
            raise ValueError("expected , or }")
        return Raw(out, s[i:j]), j
    if c == "[":
        out, j = [], i + 1
        while True:
            while j < len(s) and s[j] in ws:
                j += 1
            if j < len(s) and s[j] == "]" and not out:
                j += 1
                break
            v, j = json_value(s, j)
            out.append(v)
            while j < len(s) and s[j] in ws:
                j += 1
            if j < len(s) and s[j] == ",":
                j += 1
                continue
            if j < len(s) and s[j] == "]":
                j += 1
                break
            raise ValueError("expected , or ]")
        return Raw(out, s[i:j]), j
    if c == '"':
        j = i + 1
        while j < len(s) and s[j] != '"':
            j += 2 if s[j] == "\\" else 1
        if j >= len(s):
            raise ValueError("unterminated string")
        return json.loads(s[i:j + 1]), j + 1
    for word, val in (("true", True), ("false", False), ("null", None)):
        if s.startswith(word, i):
            return val, i + len(word)
    m = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?").match(s, i)
    if not m or m.end() == i:
        raise ValueError("unexpected %r" % c)
    return Num(m.group(0)), m.end()


def json_loads(line):
    """The line's object with objects and arrays kept as Raw (their text)."""
    v, end = json_value(line, 0)
    if line[end:].strip() or not isinstance(v, Raw) or not isinstance(v.value, dict):
        raise ValueError("not an object")
    return v.value


def reject_constant(name):
    raise ValueError("not JSON: %s" % name)


def json_loads_fast(line):
    """The line's object, numbers as their text: enough where no raw object
    text is needed (Python's own parser, far faster than json_value)."""
    v = json.loads(line, parse_float=Num, parse_int=Num, parse_constant=reject_constant)
    if not isinstance(v, dict):
        raise ValueError("not an object")
    return v


def json_flatten(obj, prefix, out):
    for k, v in obj.items():
        name = prefix + sanitize(k)
        if isinstance(v, dict):
            json_flatten(v, name + "_", out)
        elif not isinstance(v, list):
            out.append((name, scalar_text(v)))


def scalar_text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    if isinstance(v, Num):
        return v.raw
    return v


def json_path(obj, expr):
    """Loki's json parameter expressions: a.b, a["b"], a[0]."""
    cur = Raw(obj, None)
    for m in re.finditer(r'\.?([a-zA-Z_][a-zA-Z0-9_-]*)|\[(\d+)\]|\["([^"]*)"\]', expr):
        key = m.group(1) or m.group(3)
        inner = cur.value if isinstance(cur, Raw) else None
        if key is not None:
            if not isinstance(inner, dict) or key not in inner:
                return None
            cur = inner[key]
        else:
            idx = int(m.group(2))
            if not isinstance(inner, list) or idx >= len(inner):
                return None
            cur = inner[idx]
    if isinstance(cur, Raw):
        return cur.text
    return scalar_text(cur)


@functools.lru_cache(maxsize=None)
def flat_json(line):
    """`json` without parameters, cached: many queries read the same lines.
    None when the line is not a JSON object."""
    try:
        obj = json_loads_fast(line)
    except ValueError:
        return None
    out = []
    json_flatten(obj, "", out)
    return tuple(out)


@functools.lru_cache(maxsize=None)
def logfmt_pairs(line, strict):
    """(key, value) pairs and whether the line was malformed (go-logfmt's
    grammar: key[=value], value bare or quoted)."""
    pairs, i, n = [], 0, len(line)
    while i < n:
        while i < n and line[i] <= " ":
            i += 1
        if i >= n:
            break
        j = i
        while j < n and line[j] > " " and line[j] not in '="':
            j += 1
        key = line[i:j]
        if not key:
            # A stray '=' or '"': malformed.
            if strict:
                return pairs, True
            i = j + 1
            continue
        if j < n and line[j] == "=":
            j += 1
            if j < n and line[j] == '"':
                k = j + 1
                buf = []
                closed = False
                while k < n:
                    if line[k] == "\\" and k + 1 < n:
                        buf.append(line[k:k + 2])
                        k += 2
                        continue
                    if line[k] == '"':
                        closed = True
                        break
                    buf.append(line[k])
                    k += 1
                if not closed:
                    return pairs, True
                pairs.append((key, go_unquote("".join(buf))))
                i = k + 1
            else:
                k = j
                while k < n and line[k] > " ":
                    if line[k] in '="':
                        if strict:
                            return pairs, True
                    k += 1
                pairs.append((key, line[j:k]))
                i = k
        elif j < n and line[j] == '"':
            if strict:
                return pairs, True
            i = j + 1
        else:
            pairs.append((key, None))
            i = j
    return pairs, False


def pattern_parts(pat):
    return re.split(r"(<[a-zA-Z_][a-zA-Z0-9_]*>)", pat)


def pattern_match(pat, line, captures=True):
    """Loki's pattern: literals in order, a capture takes the text up to the
    next literal's first occurrence (the rest of the line when last)."""
    parts = [p for p in pattern_parts(pat) if p != ""]
    pos, out = 0, []
    for idx, p in enumerate(parts):
        if p.startswith("<") and p.endswith(">"):
            nxt = parts[idx + 1] if idx + 1 < len(parts) else None
            if nxt is None:
                out.append((p[1:-1], line[pos:]))
                pos = len(line)
            else:
                k = line.find(nxt, pos)
                if k < 0:
                    return None
                out.append((p[1:-1], line[pos:k]))
                pos = k
        else:
            if idx == 0:
                if not line.startswith(p):
                    return None
            elif not line.startswith(p, pos):
                return None
            pos += len(p)
    return out, pos


def line_filter_ok(op, vals, line):
    def one(v):
        kind, s = v
        if kind == "ip":
            return line_has_ip(line, ip_matcher(s))
        if op in ("|=", "!="):
            return s in line
        if op in ("|~", "!~"):
            return re.search(s, line, re.ASCII) is not None
        m = pattern_match(s, line)
        return m is not None and m[1] == len(line)
    hit = any(one(v) for v in vals)
    return hit if op in ("|=", "|~", "|>") else not hit


def label_filter(f, lbs):
    kind = f[0]
    if kind == "and":
        a = label_filter(f[1], lbs)
        b = label_filter(f[2], lbs)
        return a and b
    if kind == "or":
        return label_filter(f[1], lbs) or label_filter(f[2], lbs)
    _, name, op, val = f
    if kind == "str":
        got = lbs.get(name, "")
        if op in ("=", "=="):
            return got == val
        if op == "!=":
            return got != val
        hit = re.fullmatch(val, got, re.ASCII | re.DOTALL) is not None
        return hit if op == "=~" else not hit
    if ERR in lbs:
        return True
    if name not in lbs:
        return False
    raw = lbs[name]
    if kind == "ipf":
        x = ip_int(raw)
        hit = x is not None and ip_matcher(val)(x)
        return hit if op in ("=", "==") else not hit
    try:
        got = {"num": parse_float, "dur": go_duration, "bytes": parse_bytes}[kind](raw)
    except ValueError:
        set_err(lbs, "LabelFilterErr")
        return True
    return {"=": got == val, "==": got == val, "!=": got != val, ">": got > val, ">=": got >= val,
            "<": got < val, "<=": got <= val}[op]


def matcher_ok(op, want, got):
    if op == "=":
        return got == want
    if op == "!=":
        return got != want
    hit = re.fullmatch(want, got, re.ASCII | re.DOTALL) is not None
    return hit if op == "=~" else not hit


def run_pipeline(stages, ts, line, stream, metadata):
    """The line and its labels after the stages, or None when filtered out.
    An unwrap stage gives (line, labels, value-or-None)."""
    lbs = dict(stream)
    for k, v in metadata.items():
        lbs.setdefault(k, v)
    value = None
    for st in stages:
        kind = st[0]
        if kind == "line":
            if not line_filter_ok(st[1], st[2], line):
                return None
        elif kind == "json":
            if not st[2]:
                flat = flat_json(line)
                if flat is None:
                    set_err(lbs, "JSONParserErr")
                    continue
                for k, v in flat:
                    add_parsed(lbs, stream, k, v)
                continue
            try:
                obj = json_loads(line)
            except ValueError:
                set_err(lbs, "JSONParserErr")
                continue
            if st[2]:
                for name, expr in st[2]:
                    v = json_path(obj, expr)
                    add_parsed(lbs, stream, name, "" if v is None else v)
            else:
                flat = []
                json_flatten(obj, "", flat)
                for k, v in flat:
                    add_parsed(lbs, stream, k, v)
        elif kind == "logfmt":
            strict = "--strict" in st[1]
            keep_empty = "--keep-empty" in st[1]
            pairs, bad = logfmt_pairs(line, strict)
            want = dict((e, n) for n, e in st[2]) if st[2] else None
            for k, v in pairs:
                if v is None:
                    if not keep_empty:
                        continue
                    v = ""
                elif v == "" and not keep_empty:
                    continue
                if want is not None:
                    if k not in want:
                        continue
                    k = want[k]
                add_parsed(lbs, stream, sanitize(k), v)
            if bad and strict:
                set_err(lbs, "LogfmtParserErr")
        elif kind == "regexp":
            m = re.search(st[1], line, re.ASCII)
            if m:
                for k, v in m.groupdict().items():
                    if v is not None:
                        add_parsed(lbs, stream, k, v)
        elif kind == "pattern":
            m = pattern_match(st[1], line)
            if m:
                for k, v in m[0]:
                    if k != "_":
                        add_parsed(lbs, stream, k, v)
        elif kind == "unpack":
            try:
                obj = json_loads_fast(line)
            except ValueError:
                set_err(lbs, "JSONParserErr")
                continue
            for k, v in obj.items():
                if isinstance(v, str):  # Loki's unpack takes string values only
                    if k == "_entry":
                        line = v
                    else:
                        add_parsed(lbs, stream, sanitize(k), v)
        elif kind == "filter":
            if not label_filter(st[1], lbs):
                return None
        elif kind == "line_format":
            line = render(st[1], lbs, line)
        elif kind == "label_format":
            snapshot = dict(lbs)
            for f in st[1]:
                if f[0] == "rename":
                    lbs[f[1]] = snapshot.get(f[2], "")
                    if f[2] != f[1]:
                        lbs.pop(f[2], None)
                else:
                    lbs[f[1]] = render(f[2], snapshot, line)
        elif kind == "drop":
            for name, m in st[1]:
                if name in lbs and (m is None or matcher_ok(m[0], m[1], lbs[name])):
                    del lbs[name]
        elif kind == "keep":
            keep = {}
            for name, m in st[1]:
                if name in lbs and (m is None or matcher_ok(m[0], m[1], lbs[name])):
                    keep[name] = lbs[name]
            lbs = keep
        elif kind == "decolorize":
            line = ANSI_RE.sub("", line)
        elif kind == "unwrap":
            _, name, conv = st
            raw = lbs.get(name, "")
            try:
                if conv is None:
                    value = parse_float(raw)
                elif conv == "bytes":
                    value = float(parse_bytes(raw))
                else:
                    value = duration_seconds(go_duration(raw))
            except ValueError:
                value = None
                set_err(lbs, "SampleExtractionErr")
            lbs.pop(name, None)
    return line, lbs, value


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

"""LogQL's syntax for reference.py (issue 15): Go's literals (strings,
durations, byte sizes, numbers), the lexer and the parser, written from
Loki's documentation. Part of the independent reference evaluator; it
shares nothing with crates/logql."""
import functools
import re

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


def matcher_ok(op, want, got):
    if op == "=":
        return got == want
    if op == "!=":
        return got != want
    hit = re.fullmatch(want, got, re.ASCII | re.DOTALL) is not None
    return hit if op == "=~" else not hit

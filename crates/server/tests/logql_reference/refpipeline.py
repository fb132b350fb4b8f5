"""The log pipeline of reference.py (issue 15): line filters, ip(),
parsers (json, logfmt, regexp, pattern, unpack), label filters, Go
templates (a subset with Loki's functions), drop/keep, decolorize and
unwrap, written from Loki's documentation and behaviour (see reference.py's
notes). Part of the independent reference evaluator."""
import functools
import json
import re

from refsyntax import *  # noqa: F401,F403 (one module split in three)

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
    "unixEpoch": lambda t: t.ns // 10**9, "unixEpochMillis": lambda t: t.ns // 10**6,
    "unixEpochNanos": lambda t: t.ns,
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
    if w == "__timestamp__":
        return Timestamp(NOW[0])
    if re.fullmatch(r"-?\d+", w):
        return int(w)
    if re.fullmatch(r"-?\d+\.\d+", w):
        return float(w)
    raise ValueError("template word %r" % w)


class Timestamp:
    """`__timestamp__`: the line's time (only its Unix forms are used)."""

    def __init__(self, ns):
        self.ns = ns


# The time of the line being formatted (one line at a time).
NOW = [0]


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
                # Empty and bare keys only with --keep-empty, or when asked
                # for by name ("If the standalone key is explicitly requested
                # using label extraction parameters, there is no need to add
                # this flag", Loki's log query docs).
                if not v and not keep_empty and (want is None or k not in want):
                    continue
                v = v or ""
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
            NOW[0] = ts
            line = render(st[1], lbs, line)
        elif kind == "label_format":
            snapshot = dict(lbs)
            for f in st[1]:
                if f[0] == "rename":
                    lbs[f[1]] = snapshot.get(f[2], "")
                    if f[2] != f[1]:
                        lbs.pop(f[2], None)
                else:
                    NOW[0] = ts
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



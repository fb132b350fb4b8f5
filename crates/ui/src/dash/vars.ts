// Template variables of Grafana's model: their options (query, custom,
// constant, interval, datasource, textbox), their current values (from the
// URL's `var-NAME=...`, as Grafana's links carry them, else the model) and
// the interpolation of `$var`, `${var}`, `${var:format}` and `[[var]]` with
// the built-ins `$__interval`, `$__rate_interval`, `$__range`, ...
import { Variable, VariableOption } from './model';
import { getJSON } from '../api';
import { lokiGet } from '../components/loglines';

/// Grafana's datasource for the Prometheus API of this server.
export const DATASOURCE = { type: 'prometheus', uid: 'sightline', name: 'Sightline' };
/// Grafana's datasource for the Loki API of this server (the uid the
/// dashboards' import gives `loki` inputs; crates/ui/src/dashboards).
export const LOGS_DATASOURCE = { type: 'loki', uid: 'sightline-logs', name: 'Sightline Logs' };

/// Which API a data source reference asks: a `{type, uid}` object, a name
/// (older schemas) or a variable of type datasource. Anything that is not
/// Loki is this server's Prometheus API, since that is what dashboards
/// written for Prometheus name in many ways.
export function datasourceKind(ds: any, scope: Scope): 'prometheus' | 'loki' {
  if (ds == null) return 'prometheus';
  if (typeof ds === 'string') {
    const r = interpolate(ds, scope, 'raw');
    return r === LOGS_DATASOURCE.uid || /loki/i.test(r) ? 'loki' : 'prometheus';
  }
  if (ds.type === 'loki') return 'loki';
  if (typeof ds.uid === 'string' && ds.uid.includes('$')) return datasourceKind(ds.uid, scope);
  return ds.uid === LOGS_DATASOURCE.uid ? 'loki' : 'prometheus';
}

/// The data source a panel's target uses: its own, unless the panel names
/// one that is not `-- Mixed --` (Grafana applies the panel's then).
export function targetDatasource(panelDs: any, targetDs: any): any {
  const mixed = (d: any) => d && (d === '-- Mixed --' || d.uid === '-- Mixed --');
  if (targetDs && (panelDs == null || mixed(panelDs))) return targetDs;
  return mixed(panelDs) ? null : (panelDs ?? targetDs);
}

export const ALL = '$__all';

/// A variable with its options and what is selected.
export interface VarState {
  v: Variable;
  options: VariableOption[];
  /// Selected values (`[ALL]` for All).
  selected: string[];
  error?: string;
}

/// What a query or title is interpolated with.
export interface Scope {
  vars: Map<string, VarState>;
  builtins: Record<string, string>;
}

export function queryText(v: Variable): string {
  const q = v.query;
  if (q == null) return '';
  return typeof q === 'string' ? q : (q.query ?? '');
}

/// The options of a `query` variable, from the API (`label_values`,
/// `label_names`, `metrics`, `query_result`; anything else is evaluated as
/// `query_result`).
async function queryOptions(expr: string, startS: number, endS: number): Promise<string[]> {
  const range = { start: String(Math.floor(startS)), end: String(Math.ceil(endS)) };
  let m = /^\s*label_names\(\s*(.*?)\s*\)\s*$/s.exec(expr);
  if (m) {
    const p = new URLSearchParams(range);
    if (m[1]) p.append('match[]', m[1]);
    return getJSON(`api/v1/labels?${p}`);
  }
  m = /^\s*label_values\(\s*(?:(.*)\s*,\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/s.exec(expr);
  if (m) {
    const p = new URLSearchParams(range);
    if (m[1]) p.append('match[]', m[1]);
    return getJSON(`api/v1/label/${encodeURIComponent(m[2])}/values?${p}`);
  }
  m = /^\s*metrics\(\s*(.*?)\s*\)\s*$/s.exec(expr);
  if (m) {
    const names: string[] = await getJSON(`api/v1/label/__name__/values?${new URLSearchParams(range)}`);
    const re = new RegExp(m[1] || '.*');
    return names.filter((n) => re.test(n));
  }
  m = /^\s*query_result\(\s*(.*)\s*\)\s*$/s.exec(expr);
  const q = m ? m[1] : expr;
  const data = await getJSON<any>(`api/v1/query?${new URLSearchParams({ query: q, time: String(endS) })}`);
  // Grafana's text for each result: `name{labels} value timestamp_ms`.
  if (data.resultType === 'scalar' || data.resultType === 'string') return [String(data.result[1])];
  return (data.result as any[]).map((r) => {
    const { __name__, ...rest } = r.metric;
    const labels = Object.entries(rest)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',');
    return `${__name__ ?? ''}{${labels}} ${r.value[1]} ${Math.round(r.value[0] * 1000)}`;
  });
}

/// The options of a Loki query variable: `label_names()`,
/// `label_values(<selector>, label)` (Grafana's text form) over Loki's
/// labels API; the selector narrows them as Loki's `query` parameter does.
async function lokiOptions(expr: string, startS: number, endS: number): Promise<string[]> {
  const range = { start: `${Math.floor(startS)}000000000`, end: `${Math.ceil(endS)}000000000` };
  const get = async (path: string, p: Record<string, string>): Promise<string[]> => (await lokiGet(path, p)) ?? [];
  let m = /^\s*label_names\(\s*(.*?)\s*\)\s*$/s.exec(expr);
  if (m) return get('labels', m[1] ? { ...range, query: m[1] } : range);
  m = /^\s*label_values\(\s*(?:(.*)\s*,\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/s.exec(expr);
  if (m) return get(`label/${encodeURIComponent(m[2])}/values`, m[1] ? { ...range, query: m[1] } : range);
  throw new Error(`a Loki variable query is label_names() or label_values({selector}, label), not ${JSON.stringify(expr)}`);
}

/// The text of a Loki variable's query: Grafana's object form
/// (`{type: 'labelValues', label, stream}`) as the text form.
function lokiQueryText(v: Variable): string {
  const q = v.query;
  if (q && typeof q === 'object' && !q.query) {
    if (q.type === 'labelNames' || q.type === 0) return 'label_names()';
    if (q.label) return q.stream ? `label_values(${q.stream}, ${q.label})` : `label_values(${q.label})`;
  }
  return queryText(v);
}

/// Applies the variable's `regex` (`/re/flags`; a capture group, or the
/// named groups `text` and `value`, pick what is kept).
function applyRegex(values: string[], regex: string | undefined): VariableOption[] {
  if (!regex) return values.map((s) => ({ text: s, value: s }));
  const m = /^\/(.*)\/([gimsuy]*)$/s.exec(regex);
  const re = new RegExp(m ? m[1] : regex, m ? m[2].replace('g', '') : '');
  const out: VariableOption[] = [];
  const seen = new Set<string>();
  for (const s of values) {
    const r = re.exec(s);
    if (!r) continue;
    const value = r.groups?.value ?? r.groups?.text ?? r[1] ?? r[0];
    const text = r.groups?.text ?? value;
    if (seen.has(value)) continue;
    seen.add(value);
    out.push({ text, value });
  }
  return out;
}

function sortOptions(o: VariableOption[], sort: number | undefined): VariableOption[] {
  const num = (s: string) => {
    const m = /-?\d+(\.\d+)?/.exec(s);
    return m ? parseFloat(m[0]) : NaN;
  };
  const by: Record<number, (a: VariableOption, b: VariableOption) => number> = {
    1: (a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0),
    2: (a, b) => (a.text > b.text ? -1 : a.text < b.text ? 1 : 0),
    3: (a, b) => num(a.text) - num(b.text),
    4: (a, b) => num(b.text) - num(a.text),
    5: (a, b) => a.text.toLowerCase().localeCompare(b.text.toLowerCase()),
    6: (a, b) => b.text.toLowerCase().localeCompare(a.text.toLowerCase()),
    7: (a, b) => a.text.localeCompare(b.text, undefined, { numeric: true }),
    8: (a, b) => b.text.localeCompare(a.text, undefined, { numeric: true }),
  };
  const f = sort ? by[sort] : undefined;
  return f ? [...o].sort(f) : o;
}

/// `a,b,c` or `key : value, ...` (commas may be escaped with `\`).
function customOptions(q: string): VariableOption[] {
  return q
    .split(/(?<!\\),/)
    .map((s) => s.replace(/\\,/g, ',').trim())
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^(.*?)\s+:\s+(.*)$/.exec(s);
      return m ? { text: m[1], value: m[2] } : { text: s, value: s };
    });
}

/// The auto interval of an `interval` variable: the range over `count`
/// steps, at least `min`, rounded as Grafana rounds intervals.
export function autoInterval(rangeMs: number, count: number, minMs: number): number {
  return roundInterval(Math.max(rangeMs / count, minMs));
}

/// Grafana's rounding of a computed interval to a readable one.
export function roundInterval(ms: number): number {
  const steps = [
    1, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 15000, 20000, 30000, 60000, 120000, 300000,
    600000, 900000, 1200000, 1800000, 3600000, 7200000, 10800000, 21600000, 43200000, 86400000,
    604800000, 2592000000, 31536000000,
  ];
  for (let i = 0; i < steps.length - 1; i++) {
    if (ms <= (steps[i] + steps[i + 1]) / 2) return steps[i];
  }
  return steps[steps.length - 1];
}

/// `1h30m`-style text of milliseconds, as Prometheus durations are written.
export function durationText(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [u, n] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as [string, number][]) {
    if (s >= n) {
      parts.push(`${Math.floor(s / n)}${u}`);
      s %= n;
    }
  }
  if (s) parts.push(`${s}s`);
  return parts.join('');
}

/// Milliseconds of a Prometheus/Grafana duration (`30s`, `1h`, `1m30s`).
export function parseDuration(s: string): number | null {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g;
  const unit: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5, y: 31536e6 };
  let total = 0;
  let seen = 0;
  for (const m of s.trim().matchAll(re)) {
    total += parseFloat(m[1]) * unit[m[2]];
    seen += m[0].length;
  }
  return seen && seen === s.trim().length ? total : null;
}

/// Computes the options of `v` with the variables before it in `scope`.
export async function resolveOptions(v: Variable, scope: Scope, fromMs: number, toMs: number): Promise<VariableOption[]> {
  switch (v.type) {
    case 'query': {
      const loki = datasourceKind(v.datasource, scope) === 'loki';
      const q = interpolate(loki ? lokiQueryText(v) : queryText(v), scope, 'regex');
      const values = await (loki ? lokiOptions : queryOptions)(q, fromMs / 1000, toMs / 1000);
      return sortOptions(applyRegex(values, v.regex), v.sort);
    }
    case 'custom':
      return customOptions(queryText(v));
    case 'constant':
    case 'textbox': {
      const q = queryText(v);
      const cur = v.current?.value;
      const val = v.type === 'textbox' && typeof cur === 'string' ? cur : q;
      return [{ text: val, value: val }];
    }
    case 'interval': {
      const opts = customOptions(queryText(v));
      if (v.auto) opts.unshift({ text: 'auto', value: '$__auto_interval_' + v.name });
      return opts;
    }
    case 'datasource': {
      // The query is the plugin's id: this server answers as both.
      const ds = queryText(v) === 'loki' ? LOGS_DATASOURCE : DATASOURCE;
      return [{ text: ds.name, value: ds.uid }];
    }
    default:
      return (v.options ?? []).map((o) => ({ text: String(o.text), value: String(o.value) }));
  }
}

/// The selected values: the URL's, else the model's current, else the
/// first option; kept only if still offered (All always is, when allowed).
export function selectValues(v: Variable, options: VariableOption[], fromUrl: string[] | null): string[] {
  const offered = new Set(options.map((o) => o.value));
  const pick = (vals: string[]) => {
    if (vals.length === 1 && (vals[0] === ALL || vals[0] === 'All' || vals[0] === '$__all') && v.includeAll) return [ALL];
    const ok = vals.filter((x) => offered.has(x) || v.type === 'textbox' || v.type === 'constant');
    return ok.length ? (v.multi ? ok : [ok[0]]) : null;
  };
  if (fromUrl?.length) {
    const p = pick(fromUrl);
    if (p) return p;
  }
  const cur = v.current?.value;
  if (cur != null && cur !== '') {
    const p = pick(Array.isArray(cur) ? cur : [cur]);
    if (p) return p;
  }
  if (v.includeAll && !options.length) return [ALL];
  return options.length ? [options[0].value] : v.includeAll ? [ALL] : [];
}

function values(st: VarState): string[] {
  if (st.selected.length === 1 && st.selected[0] === ALL) return st.options.map((o) => o.value);
  return st.selected;
}

function regexEscape(s: string): string {
  // Inside a PromQL double-quoted string: the regex escape's backslash is
  // itself escaped.
  return s.replace(/[\\^$*+?.()|{}[\]]/g, '\\\\$&');
}

/// The text of a variable in `format` (Grafana's `${var:format}`).
function render(st: VarState, format: string | undefined, defaultFormat: 'regex' | 'raw'): string {
  const all = st.selected.length === 1 && st.selected[0] === ALL;
  if (all && st.v.allValue != null && st.v.allValue !== '' && (format == null || format === 'regex')) return st.v.allValue;
  if (st.v.type === 'interval') {
    const x = st.selected[0] ?? '';
    return x.startsWith('$__auto_interval') ? '$__auto_interval_' + st.v.name : x;
  }
  const vals = values(st);
  const f = format ?? (st.v.multi || st.v.includeAll ? defaultFormat : 'raw');
  switch (f) {
    case 'raw':
      return vals.join(',');
    case 'csv':
      return vals.join(',');
    case 'pipe':
      return vals.join('|');
    case 'text': {
      const text = (x: string) => st.options.find((o) => o.value === x)?.text ?? x;
      return all ? 'All' : vals.map(text).join(' + ');
    }
    case 'json':
      return JSON.stringify(vals);
    case 'doublequote':
      return vals.map((x) => `"${x}"`).join(',');
    case 'singlequote':
      return vals.map((x) => `'${x}'`).join(',');
    case 'glob':
      return vals.length > 1 ? `{${vals.join(',')}}` : (vals[0] ?? '');
    case 'queryparam':
      return vals.map((x) => `var-${st.v.name}=${encodeURIComponent(x)}`).join('&');
    case 'percentencode':
      return vals.map(encodeURIComponent).join(',');
    case 'lucene':
      return vals.length > 1 ? `(${vals.map((x) => `"${x}"`).join(' OR ')})` : `"${vals[0] ?? ''}"`;
    case 'regex':
    default:
      if (vals.length === 1 && !st.v.multi && !st.v.includeAll) return vals[0];
      return vals.length === 1 ? regexEscape(vals[0]) : `(${vals.map(regexEscape).join('|')})`;
  }
}

const VAR_RE = /\$(\w+)|\$\{(\w+)(?:\.[\w.]+)?(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]/g;

/// Replaces variables in `text`. Unknown names stay as written (Grafana
/// leaves them too), so a typo shows in the query's error.
export function interpolate(text: string, scope: Scope, defaultFormat: 'regex' | 'raw' = 'regex'): string {
  let out = text;
  // Twice: an interval variable may resolve to `$__auto_interval_x`.
  for (let pass = 0; pass < 2; pass++) {
    out = out.replace(VAR_RE, (whole, a, b, fmtB, c, fmtC) => {
      const name = a ?? b ?? c;
      const fmt = fmtB ?? fmtC;
      if (name in scope.builtins) return scope.builtins[name];
      const st = scope.vars.get(name);
      if (!st) return whole;
      return render(st, fmt, defaultFormat);
    });
  }
  return out;
}

/// Values of `var-NAME` parameters of a URL's query.
export function urlVars(params: URLSearchParams): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [k, v] of params) {
    if (!k.startsWith('var-')) continue;
    const n = k.slice(4);
    m.set(n, [...(m.get(n) ?? []), v]);
  }
  return m;
}

// A panel's queries: Grafana's interval rules (min interval, max data
// points, `$__interval`, `$__rate_interval`), the Prometheus API calls, and
// the answers as frames (one per series) for the panel views.
import { ApiError, query, queryRaw } from '../api';
import { parseMatrix } from './matrix';
import { Panel, Target } from './model';
import { Scope, interpolate, parseDuration, roundInterval, durationText, datasourceKind, targetDatasource } from './vars';
import { LogLine, lokiGet, streamLines } from '../components/loglines';

/// One series of a panel: its legend name, labels and samples.
export interface Frame {
  refId: string;
  name: string;
  labels: Record<string, string>;
  /// Seconds since the epoch.
  times: number[];
  values: (number | null)[];
}

export interface PanelData {
  frames: Frame[];
  /// The step grid of range queries (seconds), for aligning frames.
  startS: number;
  endS: number;
  stepS: number;
  /// Whether every query was instant.
  instant: boolean;
  error?: string;
  /// The queries as sent, for "no data" messages.
  queries: string[];
  /// Lines of LogQL log queries (Loki targets), newest first.
  logs: LogLine[];
}

/// Grafana's Loki data source's default line limit (its `maxLines`).
export const DEFAULT_MAX_LINES = 1000;

/// The scrape interval Grafana's Prometheus data source assumes when the
/// server does not say (its default "scrape interval" setting).
export const DEFAULT_SCRAPE_MS = 15000;

/// The interval of a panel's queries: the range over the panel's data
/// points, at least the panel's (or target's) min interval, rounded.
export function panelInterval(panel: Panel, target: Target | null, scope: Scope, rangeMs: number, widthPx: number, scrapeMs: number): number {
  const minText = target?.interval || panel.interval;
  let minMs = scrapeMs;
  if (minText) {
    const t = interpolate(minText, scope, 'raw').replace(/^>/, '');
    minMs = parseDuration(t) ?? scrapeMs;
  }
  const points = panel.maxDataPoints || Math.max(100, Math.round(widthPx));
  return Math.max(minMs, roundInterval(rangeMs / points));
}

/// `{{label}}` of a legend format; an empty format names the series by
/// its labels, as Grafana does.
export function legendName(fmt: string | undefined, metric: Record<string, string>, scope: Scope): string {
  if (fmt && fmt !== '__auto') {
    const text = fmt.replace(/\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, l) => metric[l] ?? '');
    return interpolate(text, scope, 'raw');
  }
  const { __name__, ...rest } = metric;
  const labels = Object.entries(rest)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  if (!labels) return __name__ ?? '{}';
  return `${__name__ ?? ''}{${labels}}`;
}

/// Runs the panel's visible targets over [fromMs, toMs].
export async function runPanel(
  panel: Panel,
  baseScope: Scope,
  fromMs: number,
  toMs: number,
  widthPx: number,
  scrapeMs: number,
  signal: AbortSignal,
  forceInstant = false,
): Promise<PanelData> {
  const targets = (panel.targets ?? []).filter((t) => !t.hide && t.expr && t.expr.trim());
  const rangeMs = Math.max(1000, toMs - fromMs);
  const intervalMs = panelInterval(panel, targets[0] ?? null, baseScope, rangeMs, widthPx, scrapeMs);
  const stepS = Math.max(1, Math.round(intervalMs / 1000));
  const startS = Math.floor(fromMs / 1000 / stepS) * stepS;
  const endS = Math.ceil(toMs / 1000 / stepS) * stepS;
  const scope: Scope = {
    vars: baseScope.vars,
    builtins: {
      ...baseScope.builtins,
      __interval: durationText(intervalMs),
      __interval_ms: String(intervalMs),
      __rate_interval: durationText(Math.max(intervalMs + scrapeMs, 4 * scrapeMs)),
    },
  };
  const out: PanelData = { frames: [], startS, endS, stepS, instant: true, queries: [], logs: [] };
  const answers = await Promise.all(
    targets.map(async (t, i) => {
      const expr = interpolate(t.expr!, scope, 'regex');
      out.queries.push(expr);
      const loki = datasourceKind(targetDatasource(panel.datasource, t.datasource), scope) === 'loki';
      const instant = forceInstant || (loki && t.queryType === 'instant') || (t.instant === true && t.range !== true);
      if (!instant) out.instant = false;
      const refId = t.refId ?? String.fromCharCode(65 + i);
      try {
        if (loki) {
          // Loki's API, as Grafana's Loki data source calls it: times in
          // nanoseconds, the step as a duration, lines up to maxLines.
          const ns = (ms: number) => `${Math.round(ms)}000000`;
          const data = instant
            ? await lokiGet('query', { query: expr, time: ns(toMs), limit: String(t.maxLines || DEFAULT_MAX_LINES) }, signal)
            : await lokiGet(
                'query_range',
                {
                  query: expr,
                  start: ns(startS * 1000),
                  end: ns(endS * 1000),
                  step: `${stepS * (t.intervalFactor || 1)}s`,
                  limit: String(t.maxLines || panel.options?.maxLines || DEFAULT_MAX_LINES),
                  direction: panel.options?.sortOrder === 'Ascending' ? 'forward' : 'backward',
                },
                signal,
              );
          return { t, refId, data, fast: null, error: undefined as string | undefined };
        }
        if (instant) {
          const r = await query('query', { query: expr, time: String(toMs / 1000) }, signal);
          return { t, refId, data: r.data, fast: null, error: undefined as string | undefined };
        }
        const text = await queryRaw('query_range', { query: expr, start: String(startS), end: String(endS), step: String(stepS * (t.intervalFactor || 1)) }, signal);
        const fast = parseMatrix(text);
        if (fast) return { t, refId, data: null, fast, error: undefined as string | undefined };
        const json = JSON.parse(text);
        if (json.status !== 'success') throw { status: 200, error: json.error ?? text.slice(0, 500) } as ApiError;
        return { t, refId, data: json.data, fast: null, error: undefined as string | undefined };
      } catch (e: any) {
        if (e?.name === 'AbortError') throw e;
        return { t, refId, data: null, fast: null, error: `${refId}: ${(e as ApiError).error ?? String(e)}` };
      }
    }),
  );
  const errors: string[] = [];
  for (const a of answers) {
    if (a.error) {
      errors.push(a.error);
      continue;
    }
    if (a.fast) {
      for (const s of a.fast) {
        out.frames.push({ refId: a.refId, name: legendName(a.t.legendFormat, s.metric, scope), labels: s.metric, times: s.times, values: s.values });
      }
      continue;
    }
    const d = a.data!;
    if (d.resultType === 'streams') {
      out.logs.push(...streamLines(d.result));
      continue;
    }
    if (d.resultType === 'scalar') {
      const [t, v] = d.result as [number, string];
      out.frames.push({ refId: a.refId, name: a.t.legendFormat || a.refId, labels: {}, times: [t], values: [parseFloat(v)] });
      continue;
    }
    for (const s of d.result as any[]) {
      const times: number[] = [];
      const values: (number | null)[] = [];
      if (s.values) {
        for (const [t, v] of s.values) {
          times.push(t);
          values.push(parseFloat(v));
        }
      } else if (s.value) {
        times.push(s.value[0]);
        values.push(parseFloat(s.value[1]));
      }
      out.frames.push({ refId: a.refId, name: legendName(a.t.legendFormat, s.metric, scope), labels: s.metric, times, values });
    }
  }
  if (errors.length) out.error = errors.join('\n');
  if (answers.filter((a) => a.data?.resultType === 'streams').length > 1) {
    // Lines of several queries, in one time order.
    out.logs.sort((a, b) => (BigInt(b.ts) > BigInt(a.ts) ? 1 : BigInt(b.ts) < BigInt(a.ts) ? -1 : 0));
  }
  return out;
}

/// The frames' values on the shared step grid (gaps are null), as uPlot
/// wants them: `[xs, ys1, ys2, ...]`.
export function alignFrames(d: PanelData): [number[], ...(number | null)[][]] {
  const n = Math.max(1, Math.floor((d.endS - d.startS) / d.stepS) + 1);
  const xs = new Array<number>(n);
  for (let i = 0; i < n; i++) xs[i] = d.startS + i * d.stepS;
  const ys = d.frames.map((f) => {
    const col: (number | null)[] = new Array(n).fill(null);
    for (let j = 0; j < f.times.length; j++) {
      const i = Math.round((f.times[j] - d.startS) / d.stepS);
      // NaN and infinities (a quantile over no requests, a ratio of
      // zeros) are gaps, as Grafana draws them: one would leave the
      // y axis without a range and the whole chart empty.
      const v = f.values[j];
      if (i >= 0 && i < n) col[i] = Number.isFinite(v) ? v : null;
    }
    return col;
  });
  return [xs, ...ys];
}

/// Grafana's reducers (`reduceOptions.calcs`, legend `calcs`).
export function reduce(values: (number | null)[], calc: string): number | null {
  // One pass, no copies: a dashboard reduces every series for its colours
  // and legends.
  let n = 0,
    sum = 0,
    min = Infinity,
    max = -Infinity,
    first: number | null = null,
    last: number | null = null,
    delta = 0,
    prev: number | null = null;
  for (const v of values) {
    if (v == null || Number.isNaN(v)) continue;
    if (first === null) first = v;
    last = v;
    n++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (prev !== null && v > prev) delta += v - prev;
    prev = v;
  }
  switch (calc) {
    case 'last':
      return values.length ? values[values.length - 1] : null;
    case 'first':
      return values.length ? values[0] : null;
    case 'lastNotNull':
    case 'current':
      return last;
    case 'firstNotNull':
      return first;
    case 'min':
      return n ? min : null;
    case 'max':
      return n ? max : null;
    case 'mean':
    case 'avg':
      return n ? sum / n : null;
    case 'sum':
    case 'total':
      return n ? sum : null;
    case 'count':
      return n;
    case 'range':
      return n ? max - min : null;
    case 'delta':
      return n ? delta : null;
    case 'diff':
      return n ? (last as number) - (first as number) : null;
    case 'median': {
      if (!n) return null;
      const s = values.filter((v): v is number => v != null && !Number.isNaN(v)).sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
    default:
      return last;
  }
}

export const CALC_NAMES: Record<string, string> = {
  lastNotNull: 'Last *',
  last: 'Last',
  first: 'First',
  firstNotNull: 'First *',
  min: 'Min',
  max: 'Max',
  mean: 'Mean',
  sum: 'Total',
  count: 'Count',
  range: 'Range',
  delta: 'Delta',
  diff: 'Difference',
  median: 'Median',
};

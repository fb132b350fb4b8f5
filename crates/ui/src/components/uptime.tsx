// What the Uptime page and the public status page share: the
// `/api/v1/uptime` report, the up/down bar strip (one bar per interval, as
// Uptime Kuma draws it) from `probe_success`, and formatting.
import { useEffect, useState } from 'preact/hooks';
import { Series } from '../api';

/// One monitor target as `/api/v1/uptime` reports it.
export interface Monitor {
  monitor: string;
  target: string;
  up: boolean;
  uptime: Record<'24h' | '7d' | '30d' | '90d', number | null>;
  outages: { start: string; end: string | null; cause: string }[];
  certDaysLeft: number | null;
}

export const WINDOWS = ['24h', '7d', '30d', '90d'] as const;

/// The API's base, relative to the page: `/status` and `/` both sit at
/// the server's root (or under a proxy's path), also with a trailing slash.
export function apiUrl(path: string): string {
  const dir = window.location.pathname.replace(/status\/?$/, '').replace(/[^/]*$/, '');
  return `${dir}${path}`;
}

/// GET of a Prometheus-style envelope; throws the API's error text.
export async function getData<T>(path: string, params?: Record<string, string>): Promise<T> {
  const q = params ? '?' + new URLSearchParams(params).toString() : '';
  const res = await fetch(apiUrl(path) + q);
  const raw = await res.text();
  let json: any;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`${path}: HTTP ${res.status}: ${raw.slice(0, 300)}`);
  }
  if (json.status !== 'success') throw new Error(`${path}: ${json.error ?? raw.slice(0, 300)}`);
  return json.data as T;
}

/// A range query's series (matrix), POSTed as a form like Explore's.
export async function queryRange(expr: string, startS: number, endS: number, stepS: number): Promise<Series[]> {
  const res = await fetch(apiUrl('api/v1/query_range'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr, start: String(startS), end: String(endS), step: String(stepS) }),
  });
  const json = await res.json();
  if (json.status !== 'success') throw new Error(json.error ?? `HTTP ${res.status}`);
  return json.data.result as Series[];
}

/// The uptime report, loaded once per mount (and again every `refreshS`).
export function useUptime(refreshS = 30): { data?: Monitor[]; error?: string } {
  const [state, setState] = useState<{ data?: Monitor[]; error?: string }>({});
  useEffect(() => {
    let live = true;
    const load = () =>
      getData<Monitor[]>('api/v1/uptime').then(
        (data) => live && setState({ data }),
        (e) => live && setState({ error: String(e.message ?? e) }),
      );
    load();
    const t = setInterval(load, refreshS * 1000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, []);
  return state;
}

/// An uptime ratio as the pages print it: `99.95%`, `-` without data.
export function pct(v: number | null | undefined, digits = 2): string {
  return v == null || isNaN(v) ? '-' : `${(v * 100).toFixed(digits)}%`;
}

/// A span of milliseconds as `3d 4h`, `12m 5s`.
export function duration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60], ['s', 1]] as [string, number][]) {
    if (s >= n || (unit === 's' && !parts.length)) {
      parts.push(`${Math.floor(s / n)}${unit}`);
      s %= n;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

export function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/// The strips the pages offer: how far back, and the width of one bar.
export const SPANS = {
  '24h': { bars: 96, stepS: 900 },
  '90d': { bars: 90, stepS: 86400 },
} as const;
export type Span = keyof typeof SPANS;

/// One bar: the share of successful probes in its interval, or null.
export type Bar = { t: number; up: number | null };

/// Bars per `job/instance` (monitor/target) over `span`: the average of
/// `probe_success` over each interval, ending at the interval that holds
/// now. One query for every monitor.
export async function loadBars(span: Span): Promise<Map<string, Bar[]>> {
  const { bars, stepS } = SPANS[span];
  const end = Math.ceil(Date.now() / 1000 / stepS) * stepS;
  const start = end - (bars - 1) * stepS;
  const series = await queryRange(`avg_over_time(probe_success[${stepS}s])`, start, end, stepS);
  const out = new Map<string, Bar[]>();
  for (const s of series) {
    const vals = new Map((s.values ?? []).map(([t, v]) => [Math.round(t), parseFloat(v)]));
    const row: Bar[] = [];
    for (let i = 0; i < bars; i++) {
      const t = start + i * stepS;
      row.push({ t, up: vals.get(t) ?? null });
    }
    out.set(`${s.metric.job}/${s.metric.instance}`, row);
  }
  return out;
}

export function useBars(span: Span): { bars?: Map<string, Bar[]>; error?: string } {
  const [state, setState] = useState<{ bars?: Map<string, Bar[]>; error?: string }>({});
  useEffect(() => {
    let live = true;
    loadBars(span).then(
      (bars) => live && setState({ bars }),
      (e) => live && setState({ error: String(e.message ?? e) }),
    );
    return () => {
      live = false;
    };
  }, [span]);
  return state;
}

function minute(s: number): string {
  return new Date(s * 1000).toISOString().slice(0, 16).replace('T', ' ');
}

function barClass(up: number | null): string {
  if (up == null) return 'bar none';
  if (up >= 1) return 'bar up';
  if (up <= 0) return 'bar down';
  return 'bar partial';
}

/// The strip: green all up, red all down, amber in between, grey no data.
export function UptimeBars({ bars, span, count }: { bars?: Bar[]; span: Span; count?: number }) {
  const { stepS } = SPANS[span];
  const n = count ?? SPANS[span].bars;
  const row = bars ?? [];
  return (
    <div class="bars" data-bars={row.length}>
      {(row.length ? row : Array.from({ length: n }, () => ({ t: 0, up: null }) as Bar)).map((b) => (
        <span
          class={barClass(b.up)}
          title={b.t ? `${minute(b.t - stepS)} to ${minute(b.t)} UTC: ${b.up == null ? 'no data' : pct(b.up) + ' up'}` : 'no data'}
        />
      ))}
    </div>
  );
}

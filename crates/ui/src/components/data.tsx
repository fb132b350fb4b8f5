// Shared pieces of the alerts and operations pages: fetching JSON from
// the API (both Prometheus's envelope and Alertmanager's bare bodies),
// showing its errors, labels as chips, times and durations.
import { useEffect, useState } from 'preact/hooks';

/// An HTTP or API failure, with the server's own message.
export class FetchError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

/// The JSON of `path` (relative to the page, so a path prefix works).
/// Prometheus's `{"status":"success","data":...}` is unwrapped to `data`;
/// an error body (the envelope's `error`, or Alertmanager's bare JSON
/// string) becomes a FetchError carrying that message.
export async function fetchJson<T = any>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, init);
  const raw = await res.text();
  let json: any = undefined;
  if (raw !== '') {
    try {
      json = JSON.parse(raw);
    } catch {
      throw new FetchError(res.status, `HTTP ${res.status}: ${raw.slice(0, 500)}`);
    }
  }
  if (!res.ok) {
    const msg = typeof json === 'string' ? json : (json?.error ?? json?.message ?? raw);
    throw new FetchError(res.status, `HTTP ${res.status}: ${msg}`);
  }
  if (json && typeof json === 'object' && !Array.isArray(json) && json.status === 'success' && 'data' in json) {
    return json.data as T;
  }
  if (json && typeof json === 'object' && json.status === 'error') {
    throw new FetchError(res.status, json.error ?? raw);
  }
  return json as T;
}

export interface Loaded<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload: () => void;
}

/// `fetchJson(path)` as state, fetched again when `path` changes, on
/// `reload()`, and every `refreshMs` if given.
export function useJson<T = any>(path: string | null, refreshMs = 0): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fetchJson<T>(path).then(
      (data) => live && setState({ data, loading: false }),
      (e) => live && setState({ error: String(e?.message ?? e), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, tick]);
  useEffect(() => {
    if (!refreshMs) return;
    const t = setInterval(() => setTick((x) => x + 1), refreshMs);
    return () => clearInterval(t);
  }, [refreshMs]);
  return { ...state, reload: () => setTick((x) => x + 1) };
}

/// What a view shows while its data is missing: the error, or a spinner line.
export function Pending({ l }: { l: Loaded<any> }) {
  if (l.error) return <div class="error">{l.error}</div>;
  return <p class="hint">Loading…</p>;
}

/// Labels as chips, `name="value"`, sorted by name (`__name__` first).
export function LabelChips({ labels, skip = [] }: { labels: Record<string, string>; skip?: string[] }) {
  const keys = Object.keys(labels ?? {})
    .filter((k) => !skip.includes(k))
    .sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  return (
    <span class="chips">
      {keys.map((k) => (
        <span class="chip" title={`${k}="${labels[k]}"`}>
          <b>{k}</b>="{labels[k]}"
        </span>
      ))}
    </span>
  );
}

/// `3m 20s ago` / `in 1h 2m`, for times near now.
export function ago(t: string | number | undefined, now = Date.now()): string {
  if (t === undefined || t === '') return '';
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (isNaN(ms) || ms <= 0) return 'never';
  // Whole seconds: sub-second precision of "when" is noise here.
  const d = Math.round((now - ms) / 1000);
  const txt = (s: number) => (s < 60 ? `${s}s` : duration(s));
  return d >= 0 ? `${txt(d)} ago` : `in ${txt(-d)}`;
}

/// Seconds as `1d 2h`, `3m 20s`, `1.234s` or `12ms`.
export function duration(s: number): string {
  if (!isFinite(s)) return String(s);
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 2 : 0)}ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 3 : 1)}s`;
  const units: [string, number][] = [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let r = Math.floor(s);
  for (const [u, n] of units) {
    if (r >= n) {
      parts.push(`${Math.floor(r / n)}${u}`);
      r %= n;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/// An RFC 3339 time as `2026-12-07 05:34:24 UTC` (a tooltip gives the rest).
export function utc(t: string | number | undefined): string {
  if (t === undefined || t === '') return '';
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (isNaN(ms)) return String(t);
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
}

/// The Explore link for a PromQL expression.
export function exploreHref(expr: string): string {
  const p = new URLSearchParams({ expr });
  const cur = new URLSearchParams(window.location.hash.split('?')[1] ?? '');
  for (const k of ['from', 'to']) {
    const v = cur.get(k);
    if (v) p.set(k, v);
  }
  return `#/explore?${p.toString()}`;
}

/// A link target for a generatorURL: Prometheus's `/graph?g0.expr=` (ours
/// or another's) opens in Explore; anything else stays as it is.
export function sourceHref(url: string): string {
  try {
    const u = new URL(url, window.location.href);
    const expr = u.searchParams.get('g0.expr');
    if (expr !== null && /\/graph$/.test(u.pathname)) return exploreHref(expr);
  } catch {
    /* not a URL: keep it */
  }
  return url;
}

/// Tabs as links: the sub-navigation of a page.
export function SubNav({ items, current }: { items: [string, string, string][]; current: string }) {
  return (
    <div class="subnav">
      {items.map(([key, title, link]) => (
        <a href={link} class={key === current ? 'active' : ''}>
          {title}
        </a>
      ))}
    </div>
  );
}

// Time ranges as Grafana writes them in URLs: `now`, `now-1h`, or
// milliseconds since the epoch.
const UNITS: Record<string, number> = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5, y: 31536e6 };

export const DEFAULT_FROM = 'now-1h';
export const DEFAULT_TO = 'now';

/// Milliseconds since the epoch, or an error naming the bad input.
export function parseTime(s: string, now: number): number {
  const t = s.trim();
  if (t === 'now') return now;
  const m = /^now-(\d+)([smhdwy])$/.exec(t);
  if (m) return now - Number(m[1]) * UNITS[m[2]];
  if (/^\d+$/.test(t)) return Number(t);
  const d = Date.parse(t);
  if (!isNaN(d)) return d;
  throw new Error(`bad time "${s}": use now, now-<n><s|m|h|d|w|y>, epoch milliseconds or an ISO date`);
}

/// The step of a range query: about 250 points over the range, at least 1 s,
/// rounded to a whole second as Prometheus's UI does.
export function autoStep(fromMs: number, toMs: number): number {
  return Math.max(1, Math.round((toMs - fromMs) / 1000 / 250));
}

export const RANGES = ['now-5m', 'now-15m', 'now-1h', 'now-3h', 'now-6h', 'now-12h', 'now-24h', 'now-2d', 'now-7d'];

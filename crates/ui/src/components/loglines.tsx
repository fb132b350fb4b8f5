// Log lines as the Logs page and the dashboards' logs panels show them:
// a level colour, the time, the line; a click opens its labels and parsed
// fields, the lines around it (context) and a link from its trace id to
// the trace. One definition for both, so a line reads the same anywhere.
import { useState } from 'preact/hooks';
import { ApiError } from '../api';

export interface LogLine {
  /// Nanoseconds since the epoch, as Loki's API writes them.
  ts: string;
  line: string;
  labels: Record<string, string>;
}

/// A GET of Loki's API (relative to the page, so a path prefix works);
/// a refusal becomes an ApiError with Loki's message.
export async function lokiGet(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<any> {
  const res = await fetch(`loki/api/v1/${path}?${new URLSearchParams(params)}`, { signal });
  const text = await res.text();
  if (!res.ok) throw { status: res.status, error: text.trim() } as ApiError;
  return JSON.parse(text).data;
}

/// The lines of a `streams` answer, newest first (or oldest first).
export function streamLines(result: any[], newestFirst = true): LogLine[] {
  const all: LogLine[] = [];
  for (const s of result) for (const [ts, line] of s.values) all.push({ ts, line, labels: s.stream });
  const sign = newestFirst ? 1 : -1;
  all.sort((a, b) => {
    const x = BigInt(a.ts),
      y = BigInt(b.ts);
    return x === y ? 0 : y > x ? sign : -sign;
  });
  return all;
}

export const LEVELS: Record<string, string> = { error: '#d62728', err: '#d62728', fatal: '#7f1d1d', critical: '#7f1d1d', warn: '#ff7f0e', warning: '#ff7f0e', info: '#2ca02c', debug: '#1f77b4', trace: '#9467bd' };

/// A line's level: its `level` (or detected, or OTLP severity) label,
/// else a `level=` / `"level":` field or a bare ERROR/WARN/... word.
export function levelOf(l: LogLine): string {
  const v = (l.labels.level ?? l.labels.detected_level ?? l.labels.severity_text ?? '').toLowerCase();
  if (v) return v;
  const m = /\b(level|lvl|severity)"?[=:]\s*"?([a-zA-Z]+)/i.exec(l.line) ?? /\b(ERROR|WARN(?:ING)?|INFO|DEBUG|FATAL)\b/.exec(l.line);
  return (m ? m[m.length - 1] : '').toLowerCase();
}

/// The trace a line names: a `trace_id` label (structured metadata), or
/// `trace_id=`, `traceID=`, `"traceId":"..."` in its text.
export function traceOf(l: LogLine): string | null {
  const fromLabel = l.labels.trace_id ?? l.labels.traceID ?? l.labels.traceId;
  if (fromLabel) return fromLabel;
  const m = /\b(?:trace_?id|traceID|traceId)"?\s*[=:]\s*"?([0-9a-fA-F]{16,32})/.exec(l.line);
  return m ? m[1] : null;
}

/// Fields of a line: its JSON object's scalar fields, or its logfmt pairs.
export function lineFields(line: string): [string, string][] {
  const t = line.trim();
  if (t.startsWith('{')) {
    try {
      const o = JSON.parse(t);
      return Object.entries(o)
        .filter(([, v]) => v === null || typeof v !== 'object')
        .map(([k, v]) => [k, String(v)]);
    } catch {
      return [];
    }
  }
  const out: [string, string][] = [];
  for (const m of t.matchAll(/([a-zA-Z_][\w.]*)=("((?:[^"\\]|\\.)*)"|\S*)/g)) out.push([m[1], m[3] ?? m[2]]);
  return out;
}

export function fmtTs(ns: string): string {
  const ms = Number(BigInt(ns) / 1000000n);
  const d = new Date(ms);
  return `${d.toISOString().slice(0, 10)} ${d.toTimeString().slice(0, 8)}.${String(ms % 1000).padStart(3, '0')}`;
}

/// The stream selector of a LogQL log query: what context queries use.
export function selectorOf(query: string): string {
  const close = query.indexOf('}');
  return close > 0 ? query.slice(0, close + 1) : query;
}

interface ListProps {
  lines: LogLine[];
  /// The query the lines came from: its selector finds their context.
  query: string;
  /// The range shown, for the trace links.
  fromMs?: number;
  toMs?: number;
  showTime?: boolean;
  /// Wrap long lines (else one line each, cut at the panel's edge).
  wrap?: boolean;
  /// Whether a click opens the line's details.
  details?: boolean;
  /// Labels shown before each line (Grafana's "unique labels").
  showLabels?: boolean;
}

export function LogList(props: ListProps) {
  const { lines, query, showTime = true, wrap = true, details = true } = props;
  const [open, setOpen] = useState<string | null>(null);
  const [context, setContext] = useState<{ key: string; lines: LogLine[] } | null>(null);

  const showContext = async (l: LogLine, key: string) => {
    const sel = selectorOf(query);
    const ns = BigInt(l.ts);
    const win = 600000000000n; // ten minutes each way
    const [before, after] = await Promise.all([
      lokiGet('query_range', { query: sel, start: String(ns - win), end: String(ns), limit: '10', direction: 'backward' }),
      lokiGet('query_range', { query: sel, start: String(ns + 1n), end: String(ns + win), limit: '10', direction: 'forward' }),
    ]);
    const all = [...streamLines(before.result, false), ...streamLines(after.result, false), l];
    all.sort((a, b) => (BigInt(a.ts) > BigInt(b.ts) ? 1 : -1));
    setContext({ key, lines: all });
  };

  return (
    <div class={`log-lines ${wrap ? '' : 'nowrap'}`}>
      {lines.map((l, i) => {
        const key = `${l.ts}-${i}`;
        const lv = levelOf(l);
        const trace = traceOf(l);
        const isOpen = open === key;
        return (
          <div class={`log-line ${isOpen ? 'open' : ''}`} key={key}>
            <div class="log-row" onClick={() => details && setOpen(isOpen ? null : key)}>
              <span class="log-level" style={{ background: LEVELS[lv] ?? '#d8dde6' }} title={lv} />
              {showTime && <span class="log-ts">{fmtTs(l.ts)}</span>}
              {props.showLabels && (
                <span class="log-labels">
                  {Object.entries(l.labels)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(' ')}
                </span>
              )}
              <span class="log-text">{l.line}</span>
            </div>
            {isOpen && (
              <div class="log-detail">
                <table>
                  <tbody>
                    {Object.entries(l.labels).map(([k, v]) => (
                      <tr>
                        <th>label</th>
                        <td>{k}</td>
                        <td>{v}</td>
                      </tr>
                    ))}
                    {lineFields(l.line).map(([k, v]) => (
                      <tr>
                        <th>field</th>
                        <td>{k}</td>
                        <td>{v}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <div class="log-actions">
                  {trace && (
                    <a class="button" href={`#/traces/${encodeURIComponent(trace)}${props.fromMs ? `?from=${props.fromMs}&to=${props.toMs}` : ''}`}>
                      Trace {trace.slice(0, 16)}…
                    </a>
                  )}
                  <button onClick={() => showContext(l, key).catch(() => setContext({ key, lines: [] }))}>Show context</button>
                </div>
                {context?.key === key && (
                  <pre class="log-context">
                    {context.lines.map((c) => (
                      <div class={c.ts === l.ts && c.line === l.line ? 'here' : ''}>
                        {fmtTs(c.ts)} {c.line}
                      </div>
                    ))}
                  </pre>
                )}
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
}

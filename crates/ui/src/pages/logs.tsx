// The Logs page (`#/logs?query=...`): a LogQL editor; for a log query, the
// volume over time by level, the lines (newest first) with their labels,
// their parsed fields, the lines around one (context) and links from a
// trace id to the trace; live tail over Loki's websocket; for a metric
// query, its graph. Everything goes through Loki's API, as Grafana would.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Route, setParams } from '../route';
import { ApiError, Series } from '../api';
import { Editor, EditorHandle } from '../editor';
import { Chart } from '../chart';
import { DEFAULT_FROM, DEFAULT_TO, autoStep, parseTime } from '../time';

interface Line {
  ts: string; // nanoseconds
  line: string;
  labels: Record<string, string>;
}

async function loki(path: string, params: Record<string, string>): Promise<any> {
  const res = await fetch(`loki/api/v1/${path}?${new URLSearchParams(params)}`);
  const text = await res.text();
  if (!res.ok) throw { status: res.status, error: text.trim() } as ApiError;
  return JSON.parse(text).data;
}

/// The query's stream selector and line filters: what the volume counts.
function volumeQuery(q: string, stepS: number): string | null {
  const close = q.indexOf('}');
  if (!q.trim().startsWith('{') || close < 0) return null;
  return `sum by (level) (count_over_time(${q.slice(0, close + 1)} [${stepS}s]))`;
}

const LEVELS: Record<string, string> = { error: '#d62728', err: '#d62728', fatal: '#7f1d1d', critical: '#7f1d1d', warn: '#ff7f0e', warning: '#ff7f0e', info: '#2ca02c', debug: '#1f77b4', trace: '#9467bd' };

function level(l: Line): string {
  const v = (l.labels.level ?? l.labels.detected_level ?? l.labels.severity_text ?? '').toLowerCase();
  if (v) return v;
  const m = /\b(level|lvl|severity)[=:]\s*"?([a-zA-Z]+)/i.exec(l.line) ?? /\b(ERROR|WARN(?:ING)?|INFO|DEBUG|FATAL)\b/.exec(l.line);
  return (m ? m[m.length - 1] : '').toLowerCase();
}

/// The trace a line names: a `trace_id` label (structured metadata), or
/// `trace_id=`, `traceID=`, `"traceId":"..."` in its text.
export function traceOf(l: Line): string | null {
  const fromLabel = l.labels.trace_id ?? l.labels.traceID ?? l.labels.traceId;
  if (fromLabel) return fromLabel;
  const m = /\b(?:trace_?id|traceID|traceId)"?\s*[=:]\s*"?([0-9a-fA-F]{16,32})/.exec(l.line);
  return m ? m[1] : null;
}

/// Fields of a line: its JSON object's scalar fields, or its logfmt pairs.
function fields(line: string): [string, string][] {
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

function fmtTs(ns: string): string {
  const ms = Number(BigInt(ns) / 1000000n);
  const d = new Date(ms);
  return `${d.toISOString().slice(0, 10)} ${d.toTimeString().slice(0, 8)}.${String(ms % 1000).padStart(3, '0')}`;
}

export function LogsPage({ route }: { route: Route }) {
  const p = route.params;
  const query = p.get('query') ?? '';
  const from = p.get('from') ?? DEFAULT_FROM;
  const to = p.get('to') ?? DEFAULT_TO;
  const limit = p.get('limit') ?? '500';
  const draft = useRef(query);
  const editor = useRef<EditorHandle | null>(null);
  const committed = useRef<string | null>(null);
  const [run, setRun] = useState(0);
  const [lines, setLines] = useState<Line[] | null>(null);
  const [matrix, setMatrix] = useState<Series[] | null>(null);
  const [volume, setVolume] = useState<Series[] | null>(null);
  const [range, setRange] = useState<{ fromMs: number; toMs: number; stepS: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [context, setContext] = useState<{ key: string; lines: Line[] } | null>(null);
  const [tailing, setTailing] = useState(false);
  const socket = useRef<WebSocket | null>(null);

  useEffect(() => {
    if (committed.current === query) {
      committed.current = null;
      return;
    }
    committed.current = null;
    draft.current = query;
    editor.current?.set(query);
  }, [query]);

  const execute = () => {
    const n = new URLSearchParams(p);
    n.set('query', draft.current);
    if (draft.current !== query) committed.current = draft.current;
    setParams('logs', n, true);
    setRun((r) => r + 1);
  };

  useEffect(() => {
    if (!query.trim()) return;
    let live = true;
    const now = Date.now();
    let fromMs: number, toMs: number;
    try {
      fromMs = parseTime(from, now);
      toMs = parseTime(to, now);
    } catch (e: any) {
      setError(e.message);
      return;
    }
    const stepS = autoStep(fromMs, toMs);
    setRange({ fromMs, toMs, stepS });
    setError(null);
    const span = { start: `${fromMs}000000`, end: `${toMs}000000` };
    loki('query_range', { query, ...span, limit, direction: 'backward', step: `${stepS}s` })
      .then((d) => {
        if (!live) return;
        if (d.resultType === 'streams') {
          const all: Line[] = [];
          for (const s of d.result) for (const [ts, line] of s.values) all.push({ ts, line, labels: s.stream });
          all.sort((a, b) => (BigInt(b.ts) > BigInt(a.ts) ? 1 : -1));
          setLines(all);
          setMatrix(null);
          const vq = volumeQuery(query, stepS);
          if (vq)
            loki('query_range', { query: vq, ...span, step: `${stepS}s` })
              .then((v) => live && setVolume(v.result))
              .catch(() => live && setVolume(null));
        } else {
          setMatrix(d.result);
          setLines(null);
          setVolume(null);
        }
      })
      .catch((e: ApiError) => live && setError(e.error));
    return () => {
      live = false;
    };
  }, [query, from, to, limit, run]);

  // Live tail: new lines pushed on top as they arrive.
  useEffect(() => {
    if (!tailing || !query) return;
    const url = new URL(`loki/api/v1/tail?${new URLSearchParams({ query, limit: '100' })}`, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(url.href);
    socket.current = ws;
    ws.onmessage = (m) => {
      const d = JSON.parse(m.data);
      const fresh: Line[] = [];
      for (const s of d.streams ?? []) for (const [ts, line] of s.values) fresh.push({ ts, line, labels: s.stream });
      fresh.sort((a, b) => (BigInt(b.ts) > BigInt(a.ts) ? 1 : -1));
      setLines((old) => {
        const seen = new Set((old ?? []).map((l) => l.ts + l.line));
        return [...fresh.filter((l) => !seen.has(l.ts + l.line)), ...(old ?? [])].slice(0, 2000);
      });
    };
    ws.onerror = () => setError('live tail: the connection failed');
    return () => ws.close();
  }, [tailing, query]);

  const showContext = async (l: Line, key: string) => {
    const close = query.indexOf('}');
    const sel = close > 0 ? query.slice(0, close + 1) : query;
    const ns = BigInt(l.ts);
    const win = 600000000000n; // ten minutes each way
    const [before, after] = await Promise.all([
      loki('query_range', { query: sel, start: String(ns - win), end: String(ns), limit: '10', direction: 'backward' }),
      loki('query_range', { query: sel, start: String(ns + 1n), end: String(ns + win), limit: '10', direction: 'forward' }),
    ]);
    const all: Line[] = [];
    for (const d of [before, after]) for (const s of d.result) for (const [ts, line] of s.values) all.push({ ts, line, labels: s.stream });
    all.push(l);
    all.sort((a, b) => (BigInt(a.ts) > BigInt(b.ts) ? 1 : -1));
    setContext({ key, lines: all });
  };

  return (
    <div class="logs">
      <div class="query-row">
        <Editor language="logql" initial={query} onChange={(v) => (draft.current = v)} onRun={execute} handle={(h) => (editor.current = h)} placeholder='LogQL, e.g. {job="app"} |= "error" (Enter runs it)' />
        <button class="primary" onClick={execute}>
          Run query
        </button>
        <button class={tailing ? 'tab active' : ''} id="live" onClick={() => setTailing(!tailing)} title="Live tail">
          {tailing ? 'Stop' : 'Live'}
        </button>
      </div>
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      {!query && <p class="hint">Type a LogQL query, e.g. <code>{'{job="app"} |= "error"'}</code> or <code>{'sum by (level) (rate({job="app"} | logfmt [5m]))'}</code>, and press Enter.</p>}
      {volume && range && volume.length > 0 && (
        <div class="log-volume">
          <Chart series={volume} fromMs={range.fromMs} toMs={range.toMs} stepS={range.stepS} stacked points={false} bars height={140} onZoom={(a, b) => {
            const n = new URLSearchParams(p);
            n.set('from', String(a));
            n.set('to', String(b));
            setParams('logs', n, true);
          }} />
        </div>
      )}
      {matrix && range && <Chart series={matrix} fromMs={range.fromMs} toMs={range.toMs} stepS={range.stepS} stacked={false} points={false} onZoom={() => {}} />}
      {lines && (
        <div class="log-lines">
          <div class="hint">
            {lines.length} lines{lines.length >= Number(limit) ? ` (the newest ${limit}: narrow the range or the query for more)` : ''}
          </div>
          {lines.map((l, i) => {
            const key = `${l.ts}-${i}`;
            const lv = level(l);
            const trace = traceOf(l);
            const isOpen = open === key;
            return (
              <div class={`log-line ${isOpen ? 'open' : ''}`} key={key}>
                <div class="log-row" onClick={() => setOpen(isOpen ? null : key)}>
                  <span class="log-level" style={{ background: LEVELS[lv] ?? '#d8dde6' }} title={lv} />
                  <span class="log-ts">{fmtTs(l.ts)}</span>
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
                        {fields(l.line).map(([k, v]) => (
                          <tr>
                            <th>field</th>
                            <td>{k}</td>
                            <td>{v}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                    <div class="log-actions">
                      {trace && range && (
                        <a class="button" href={`#/traces/${encodeURIComponent(trace)}?from=${range.fromMs}&to=${range.toMs}`}>
                          Trace {trace.slice(0, 16)}…
                        </a>
                      )}
                      <button onClick={() => showContext(l, key)}>Show context</button>
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
      )}
    </div>
  );
}

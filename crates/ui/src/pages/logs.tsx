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
import { LogLine, LogList, lokiGet, streamLines } from '../components/loglines';

/// The query's stream selector and line filters: what the volume counts.
function volumeQuery(q: string, stepS: number): string | null {
  const close = q.indexOf('}');
  if (!q.trim().startsWith('{') || close < 0) return null;
  return `sum by (level) (count_over_time(${q.slice(0, close + 1)} [${stepS}s]))`;
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
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [matrix, setMatrix] = useState<Series[] | null>(null);
  const [volume, setVolume] = useState<Series[] | null>(null);
  const [range, setRange] = useState<{ fromMs: number; toMs: number; stepS: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
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
    lokiGet('query_range', { query, ...span, limit, direction: 'backward', step: `${stepS}s` })
      .then((d) => {
        if (!live) return;
        if (d.resultType === 'streams') {
          setLines(streamLines(d.result));
          setMatrix(null);
          const vq = volumeQuery(query, stepS);
          if (vq)
            lokiGet('query_range', { query: vq, ...span, step: `${stepS}s` })
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
      const fresh = streamLines(d.streams ?? []);
      setLines((old) => {
        const seen = new Set((old ?? []).map((l) => l.ts + l.line));
        return [...fresh.filter((l) => !seen.has(l.ts + l.line)), ...(old ?? [])].slice(0, 2000);
      });
    };
    ws.onerror = () => setError('live tail: the connection failed');
    return () => ws.close();
  }, [tailing, query]);

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
        <>
          <div class="hint">
            {lines.length} lines{lines.length >= Number(limit) ? ` (the newest ${limit}: narrow the range or the query for more)` : ''}
          </div>
          <LogList lines={lines} query={query} fromMs={range?.fromMs} toMs={range?.toMs} />
        </>
      )}
    </div>
  );
}

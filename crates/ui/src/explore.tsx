// Explore metrics: a PromQL expression over the page's time range as a
// graph (range query), a table (instant query at the range's end) or the
// API's raw JSON. Everything that makes the view is in the URL.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, QueryResponse, Series, getJSON, query, seriesName } from './api';
import { Chart, Exemplar, exemplarTrace } from './chart';
import { Editor, EditorHandle } from './editor';
import { Route, setParams } from './route';
import { DEFAULT_FROM, DEFAULT_TO, autoStep, parseTime } from './time';

const HISTORY_KEY = 'sightline.explore.history';

function loadHistory(): string[] {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]');
  } catch {
    return [];
  }
}

function remember(expr: string) {
  const h = [expr, ...loadHistory().filter((e) => e !== expr)].slice(0, 30);
  localStorage.setItem(HISTORY_KEY, JSON.stringify(h));
}

interface Result {
  resp?: QueryResponse;
  error?: ApiError;
  fromMs: number;
  toMs: number;
  stepS: number;
}

export function Explore({ route }: { route: Route }) {
  const p = route.params;
  const expr = p.get('expr') ?? '';
  const tab = p.get('tab') ?? 'graph';
  const from = p.get('from') ?? DEFAULT_FROM;
  const to = p.get('to') ?? DEFAULT_TO;
  const stacked = p.get('stacked') === '1';
  const points = p.get('points') === '1';
  const showExemplars = p.get('exemplars') === '1';
  const [exemplars, setExemplars] = useState<Exemplar[]>([]);
  // The editor's text as of the last keystroke (a ref: Enter may come
  // before Preact re-renders with the last character).
  const draft = useRef(expr);
  const [result, setResult] = useState<Result | null>(null);
  const [loading, setLoading] = useState(false);
  const [run, setRun] = useState(0);
  const [showHistory, setShowHistory] = useState(false);

  const editor = useRef<EditorHandle | null>(null);
  // The expression this page last put in the URL itself: its arrival back
  // through the route must not reset the editor (the user may have typed
  // on since). Any other change of `expr` (back button, a link) is shown.
  const committed = useRef<string | null>(null);
  useEffect(() => {
    if (committed.current === expr) {
      committed.current = null;
      return;
    }
    committed.current = null;
    draft.current = expr;
    editor.current?.set(expr);
  }, [expr]);

  const set = (k: string, v: string | null, push = false) => {
    const n = new URLSearchParams(p);
    if (v === null) n.delete(k);
    else n.set(k, v);
    setParams('explore', n, push);
  };

  const execute = () => {
    if (draft.current !== expr) {
      committed.current = draft.current;
      set('expr', draft.current, true);
    }
    setRun((r) => r + 1);
  };

  useEffect(() => {
    if (!expr.trim()) {
      setResult(null);
      return;
    }
    let fromMs: number, toMs: number;
    const now = Date.now();
    try {
      fromMs = parseTime(from, now);
      toMs = parseTime(to, now);
    } catch (e: any) {
      setResult({ error: { status: 0, error: e.message }, fromMs: 0, toMs: 0, stepS: 1 });
      return;
    }
    const stepS = autoStep(fromMs, toMs);
    let live = true;
    setLoading(true);
    remember(expr);
    const req =
      tab === 'graph'
        ? query('query_range', {
            query: expr,
            start: String(fromMs / 1000),
            end: String(toMs / 1000),
            step: String(stepS),
          })
        : query('query', { query: expr, time: String(toMs / 1000) });
    if (tab === 'graph' && showExemplars) {
      getJSON<any[]>(`api/v1/query_exemplars?${new URLSearchParams({ query: expr, start: String(fromMs / 1000), end: String(toMs / 1000) })}`)
        .then((d) => live && setExemplars((d ?? []).flatMap((s: any) => s.exemplars.map((e: any) => ({ seriesLabels: s.seriesLabels, labels: e.labels, value: e.value, timestamp: e.timestamp })))))
        .catch(() => live && setExemplars([]));
    } else setExemplars([]);
    req
      .then((resp) => live && setResult({ resp, fromMs, toMs, stepS }))
      .catch((error: ApiError) => live && setResult({ error, fromMs, toMs, stepS }))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [expr, tab, from, to, run, showExemplars]);

  return (
    <div class="explore">
      <div class="query-row">
        <Editor initial={expr} onChange={(v) => (draft.current = v)} onRun={execute} handle={(h) => (editor.current = h)} />
        <button class="primary" id="run" onClick={execute}>
          {loading ? 'Running…' : 'Run query'}
        </button>
        <button onClick={() => setShowHistory(!showHistory)} title="Query history">
          History
        </button>
      </div>
      {showHistory && (
        <ul class="history">
          {loadHistory().map((h) => (
            <li>
              <a
                href="#"
                onClick={(e) => {
                  e.preventDefault();
                  setShowHistory(false);
                  set('expr', h, true);
                }}
              >
                {h}
              </a>
            </li>
          ))}
        </ul>
      )}
      <div class="tabs">
        {['graph', 'table', 'json'].map((t) => (
          <button class={t === tab ? 'tab active' : 'tab'} onClick={() => set('tab', t)}>
            {t === 'json' ? 'JSON' : t[0].toUpperCase() + t.slice(1)}
          </button>
        ))}
        {tab === 'graph' && (
          <span class="options">
            <label>
              <input type="checkbox" checked={stacked} onChange={() => set('stacked', stacked ? null : '1')} /> stacked
            </label>
            <label>
              <input type="checkbox" checked={points} onChange={() => set('points', points ? null : '1')} /> points
            </label>
            <label>
              <input type="checkbox" checked={showExemplars} onChange={() => set('exemplars', showExemplars ? null : '1')} /> exemplars
            </label>
          </span>
        )}
      </div>
      {result?.error && <ErrorBox error={result.error} expr={expr} />}
      {result?.resp?.warnings?.map((w) => <div class="warning">{w}</div>)}
      {result?.resp && <View tab={tab} result={result} exemplars={showExemplars ? exemplars : []} stacked={stacked} points={points} onZoom={(a, b) => {
        const n = new URLSearchParams(p);
        n.set('from', String(a));
        n.set('to', String(b));
        setParams('explore', n, true);
      }} />}
      {!expr.trim() && <p class="hint">Type a PromQL expression, e.g. <code>up</code> or <code>rate(prometheus_http_requests_total[5m])</code>, and press Enter.</p>}
    </div>
  );
}

/// The API's message, and where it points when it names a position
/// ("1:5: parse error: ..."), the expression with that spot marked.
function ErrorBox({ error, expr }: { error: ApiError; expr: string }) {
  const m = /^(\d+):(\d+):/.exec(error.error);
  let marker = null;
  if (m) {
    const line = expr.split('\n')[Number(m[1]) - 1] ?? '';
    const col = Number(m[2]) - 1;
    marker = (
      <pre class="error-pos">
        {line}
        {'\n'}
        {' '.repeat(Math.max(0, col))}^
      </pre>
    );
  }
  return (
    <div class="error" role="alert">
      <strong>{error.errorType ? `${error.errorType}: ` : 'Error: '}</strong>
      {error.error}
      {marker}
    </div>
  );
}

function View({ tab, result, exemplars, stacked, points, onZoom }: { tab: string; result: Result; exemplars: Exemplar[]; stacked: boolean; points: boolean; onZoom: (a: number, b: number) => void }) {
  const data = result.resp!.data;
  if (tab === 'json') return <pre class="json">{JSON.stringify(JSON.parse(result.resp!.raw), null, 2)}</pre>;
  if (data.resultType === 'scalar' || data.resultType === 'string') {
    const [t, v] = data.result as [number, string];
    return <Table rows={[['scalar', v, t]]} />;
  }
  const series = data.result as Series[];
  if (tab === 'graph') {
    if (data.resultType !== 'matrix') return <p>Expected a range vector, got {data.resultType}.</p>;
    if (!series.length) return <p class="hint">No data in this range.</p>;
    return (
      <>
        <Chart series={series} exemplars={exemplars} fromMs={result.fromMs} toMs={result.toMs} stepS={result.stepS} stacked={stacked} points={points} onZoom={onZoom} />
        {exemplars.length > 0 && <ExemplarList exemplars={exemplars} fromMs={result.fromMs} toMs={result.toMs} />}
      </>
    );
  }
  return (
    <Table
      rows={series.map((s) => {
        const v = s.value ?? s.values?.[s.values.length - 1];
        return [seriesName(s.metric), v?.[1] ?? '', v?.[0] ?? ''];
      })}
    />
  );
}

/// The exemplars in range, each linked to its trace (the link scheme of
/// docs/web.md: the trace view arrives with issue 16).
function ExemplarList({ exemplars, fromMs, toMs }: { exemplars: Exemplar[]; fromMs: number; toMs: number }) {
  return (
    <table class="result exemplars">
      <thead>
        <tr>
          <th>Exemplar time</th>
          <th>Value</th>
          <th>Series</th>
          <th>Trace</th>
        </tr>
      </thead>
      <tbody>
        {exemplars.slice(0, 200).map((e) => {
          const trace = exemplarTrace(e);
          return (
            <tr>
              <td>{new Date(e.timestamp * 1000).toLocaleString()}</td>
              <td>{e.value}</td>
              <td>{seriesName(e.seriesLabels)}</td>
              <td>{trace ? <a href={`#/traces/${encodeURIComponent(trace)}?from=${fromMs}&to=${toMs}`}>{trace}</a> : seriesName(e.labels)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Table({ rows }: { rows: [string, string, number | string][] }) {
  if (!rows.length) return <p class="hint">Empty result.</p>;
  return (
    <table class="result">
      <thead>
        <tr>
          <th>Series</th>
          <th>Value</th>
          <th>Time</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([s, v, t]) => (
          <tr>
            <td class="series">{s}</td>
            <td>{v}</td>
            <td>{typeof t === 'number' ? new Date(t * 1000).toISOString() : t}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

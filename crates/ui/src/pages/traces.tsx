// The Traces page. `#/traces`: search by service, operation, tags and
// duration (Jaeger's query API under `jaeger/api/`) or by TraceQL (Tempo's
// `api/search`), results as a scatter plot of duration over time and a
// list; `#/traces/ID`: one trace's waterfall; `#/traces?view=map`: the
// service map from the calls between services in the time range.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Route, setParams } from '../route';
import { ApiError, fetchJSON } from '../api';
import { Editor } from '../editor';
import { DEFAULT_FROM, DEFAULT_TO, parseTime } from '../time';
import { TraceView } from '../components/waterfall';
import { JTrace, fmtDuration, isError, serviceColor } from '../components/tracemodel';
import { ServiceMap } from '../components/servicemap';

/// One row of the results, from either API.
interface Found {
  traceID: string;
  root: string;
  startUs: number;
  durationUs: number;
  spans: number;
  errors: number;
  services: string[];
}

function fromJaeger(t: JTrace): Found {
  const ids = new Set(t.spans.map((s) => s.spanID));
  const root = t.spans.find((s) => !s.references.some((r) => r.refType === 'CHILD_OF' && ids.has(r.spanID))) ?? t.spans[0];
  const start = Math.min(...t.spans.map((s) => s.startTime));
  const end = Math.max(...t.spans.map((s) => s.startTime + s.duration));
  return {
    traceID: t.traceID,
    root: `${t.processes[root.processID]?.serviceName}: ${root.operationName}`,
    startUs: start,
    durationUs: end - start,
    spans: t.spans.length,
    errors: t.spans.filter(isError).length,
    services: [...new Set(t.spans.map((s) => t.processes[s.processID]?.serviceName ?? ''))].sort(),
  };
}

function fromTempo(t: any): Found {
  const sets: any[] = t.spanSets ?? (t.spanSet ? [t.spanSet] : []);
  return {
    traceID: t.traceID,
    root: `${t.rootServiceName ?? '<root span not yet received>'}: ${t.rootTraceName ?? ''}`,
    startUs: Math.floor(Number(t.startTimeUnixNano) / 1000),
    durationUs: (t.durationMs ?? 0) * 1000,
    spans: sets.reduce((n, s) => n + (s.matched ?? s.spans?.length ?? 0), 0),
    errors: 0,
    services: [t.rootServiceName ?? ''],
  };
}

async function jaeger(path: string, params?: Record<string, string>): Promise<any> {
  const q = params ? `?${new URLSearchParams(params)}` : '';
  const j = await fetchJSON(`jaeger/api/${path}${q}`);
  return j.data;
}

function Scatter({ found, open }: { found: Found[]; open: (id: string) => void }) {
  if (found.length === 0) return null;
  const W = 1000,
    H = 160,
    P = 30;
  const x0 = Math.min(...found.map((f) => f.startUs));
  const x1 = Math.max(...found.map((f) => f.startUs), x0 + 1);
  const y1 = Math.max(...found.map((f) => f.durationUs), 1);
  return (
    <svg class="scatter" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label="trace durations over time">
      <line x1={P} y1={H - P} x2={W} y2={H - P} class="axis" />
      <text x={2} y={12} class="tick">
        {fmtDuration(y1)}
      </text>
      <text x={2} y={H - P} class="tick">
        0
      </text>
      {found.map((f) => (
        <circle
          cx={P + ((f.startUs - x0) / (x1 - x0)) * (W - P - 10)}
          cy={H - P - (f.durationUs / y1) * (H - P - 10)}
          r={5}
          class={f.errors > 0 ? 'dot err' : 'dot'}
          onClick={() => open(f.traceID)}
        >
          <title>{`${f.root} ${fmtDuration(f.durationUs)}`}</title>
        </circle>
      ))}
    </svg>
  );
}

function SearchForm({ route }: { route: Route }) {
  const p = route.params;
  const [services, setServices] = useState<string[]>([]);
  const [ops, setOps] = useState<string[]>([]);
  const service = p.get('service') ?? '';
  const draft = useRef(p.get('q') ?? '');
  const mode = p.get('mode') ?? 'search';
  useEffect(() => {
    jaeger('services').then((s) => setServices(s ?? [])).catch(() => setServices([]));
  }, []);
  useEffect(() => {
    if (!service) return setOps([]);
    jaeger(`services/${encodeURIComponent(service)}/operations`).then((o) => setOps(o ?? [])).catch(() => setOps([]));
  }, [service]);
  const set = (k: string, v: string) => {
    const n = new URLSearchParams(p);
    v ? n.set(k, v) : n.delete(k);
    if (k === 'service') n.delete('operation');
    setParams('traces', n, false);
  };
  const run = () => {
    const n = new URLSearchParams(p);
    n.set('run', String(Date.now()));
    if (mode === 'traceql') n.set('q', draft.current);
    setParams('traces', n, true);
  };
  return (
    <div class="trace-search">
      <div class="tabs">
        <button class={`tab${mode === 'search' ? ' active' : ''}`} onClick={() => set('mode', 'search')}>
          Search
        </button>
        <button class={`tab${mode === 'traceql' ? ' active' : ''}`} onClick={() => set('mode', 'traceql')}>
          TraceQL
        </button>
        <button class={`tab${p.get('view') === 'map' ? ' active' : ''}`} onClick={() => set('view', p.get('view') === 'map' ? '' : 'map')}>
          Service map
        </button>
      </div>
      {mode === 'traceql' ? (
        <div class="query-row">
          <Editor language="traceql" initial={draft.current} onChange={(v) => (draft.current = v)} onRun={run} placeholder='TraceQL, e.g. { resource.service.name = "api" && status = error } (Enter runs it)' />
          <button class="primary" onClick={run}>
            Search
          </button>
        </div>
      ) : (
        <div class="search-fields">
          <label>
            Service
            <select name="service" value={service} onChange={(e) => set('service', (e.target as HTMLSelectElement).value)}>
              <option value="">choose one</option>
              {services.map((s) => (
                <option value={s}>{s}</option>
              ))}
            </select>
          </label>
          <label>
            Operation
            <select name="operation" value={p.get('operation') ?? ''} onChange={(e) => set('operation', (e.target as HTMLSelectElement).value)}>
              <option value="">all</option>
              {ops.map((o) => (
                <option value={o}>{o}</option>
              ))}
            </select>
          </label>
          <label>
            Tags
            <input name="tags" placeholder="http.status_code=500 error=true" value={p.get('tags') ?? ''} onChange={(e) => set('tags', (e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Min duration
            <input name="minDuration" size={6} placeholder="100ms" value={p.get('minDuration') ?? ''} onChange={(e) => set('minDuration', (e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Max duration
            <input name="maxDuration" size={6} placeholder="2s" value={p.get('maxDuration') ?? ''} onChange={(e) => set('maxDuration', (e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Limit
            <input name="limit" size={4} value={p.get('limit') ?? '20'} onChange={(e) => set('limit', (e.target as HTMLInputElement).value)} />
          </label>
          <button class="primary" onClick={run} disabled={!service}>
            Find traces
          </button>
        </div>
      )}
    </div>
  );
}

/// `a=b c="d e"` into Jaeger's `tags` JSON.
function tagsJSON(s: string): string {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([^\s=]+)=("([^"]*)"|\S*)/g)) out[m[1]] = m[3] ?? m[2];
  return JSON.stringify(out);
}

function Results({ route }: { route: Route }) {
  const p = route.params;
  const [found, setFound] = useState<Found[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const mode = p.get('mode') ?? 'search';
  const key = ['run', 'service', 'operation', 'tags', 'minDuration', 'maxDuration', 'limit', 'q', 'from', 'to', 'mode'].map((k) => p.get(k)).join('|');
  useEffect(() => {
    if (!p.get('run') && !p.get('service') && !p.get('q')) return;
    let live = true;
    const now = Date.now();
    let fromMs: number, toMs: number;
    try {
      fromMs = parseTime(p.get('from') ?? DEFAULT_FROM, now);
      toMs = parseTime(p.get('to') ?? DEFAULT_TO, now);
    } catch (e: any) {
      setError(e.message);
      return;
    }
    setError(null);
    const limit = p.get('limit') ?? '20';
    let req: Promise<Found[]>;
    if (mode === 'traceql') {
      const q = p.get('q') ?? '{}';
      req = fetchJSON(`api/search?${new URLSearchParams({ q, start: String(Math.floor(fromMs / 1000)), end: String(Math.ceil(toMs / 1000)), limit })}`).then((j) =>
        (j.traces ?? []).map(fromTempo),
      );
    } else {
      if (!p.get('service')) return;
      const params: Record<string, string> = { service: p.get('service')!, start: `${fromMs}000`, end: `${toMs}000`, limit };
      for (const k of ['operation', 'minDuration', 'maxDuration']) if (p.get(k)) params[k] = p.get(k)!;
      if (p.get('tags')) params.tags = tagsJSON(p.get('tags')!);
      req = jaeger('traces', params).then((ts: JTrace[]) => (ts ?? []).map(fromJaeger));
    }
    req
      .then((f) => live && setFound(f.sort((a, b) => b.startUs - a.startUs)))
      .catch((e: ApiError) => live && (setError(e.error), setFound(null)));
    return () => {
      live = false;
    };
  }, [key]);
  const open = (id: string) => setParams(`traces/${id}`, new URLSearchParams({ from: p.get('from') ?? DEFAULT_FROM, to: p.get('to') ?? DEFAULT_TO }), true);
  return (
    <>
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      {found && (
        <>
          <Scatter found={found} open={open} />
          <p class="hint">{found.length} traces</p>
          <table class="result traces">
            <thead>
              <tr>
                <th>Trace</th>
                <th>Start</th>
                <th>Duration</th>
                <th>Spans</th>
                <th>Services</th>
              </tr>
            </thead>
            <tbody>
              {found.map((f) => (
                <tr>
                  <td>
                    <a href={`#/traces/${f.traceID}?from=${p.get('from') ?? DEFAULT_FROM}&to=${p.get('to') ?? DEFAULT_TO}`}>{f.root}</a>
                    {f.errors > 0 && <span class="badge err">{f.errors === 1 ? "1 error" : `${f.errors} errors`}</span>}
                    <br />
                    <small class="hint">{f.traceID}</small>
                  </td>
                  <td>{new Date(f.startUs / 1000).toISOString().replace('T', ' ').slice(0, 23)}</td>
                  <td>{fmtDuration(f.durationUs)}</td>
                  <td>{f.spans}</td>
                  <td>
                    {f.services.map((s) => (
                      <span class="svc-chip" style={{ borderColor: serviceColor(s) }}>
                        {s}
                      </span>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}

function OneTrace({ id }: { id: string }) {
  const [trace, setTrace] = useState<JTrace | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setTrace(null);
    setError(null);
    jaeger(`traces/${encodeURIComponent(id)}`)
      .then((d) => setTrace(d?.[0] ?? null))
      .catch((e: ApiError) => setError(e.status === 404 ? `Trace ${id} was not found.` : e.error));
  }, [id]);
  if (error)
    return (
      <div class="error" role="alert">
        {error}
      </div>
    );
  if (!trace) return <p class="hint">Loading trace {id}…</p>;
  return <TraceView trace={trace} />;
}

export function TracesPage({ route }: { route: Route }) {
  const id = route.path.split('/')[1];
  if (id)
    return (
      <div class="traces">
        <p>
          <a href={`#/traces?from=${route.params.get('from') ?? DEFAULT_FROM}&to=${route.params.get('to') ?? DEFAULT_TO}`}>← Search traces</a>
        </p>
        <OneTrace id={decodeURIComponent(id)} />
      </div>
    );
  return (
    <div class="traces">
      <SearchForm route={route} />
      {route.params.get('view') === 'map' ? <ServiceMap route={route} /> : <Results route={route} />}
    </div>
  );
}

// The service map: services as nodes, requests between them as arrows,
// from the service graph metrics (`traces_service_graph_request_total`
// and `..._failed_total`, increase over the page's range), or, before the
// generator has written any, from the parent-child calls of the traces
// in range (Jaeger's `/api/dependencies`). Nodes are laid out in columns
// by their distance from the callers nobody calls.
import { useEffect, useState } from 'preact/hooks';
import { Route, setParams } from '../route';
import { ApiError, fetchJSON, query, Series } from '../api';
import { DEFAULT_FROM, DEFAULT_TO, parseTime } from '../time';
import { serviceColor } from './tracemodel';

interface Edge {
  from: string;
  to: string;
  calls: number;
  failed: number | null;
}

function promDuration(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}

async function fromMetrics(fromMs: number, toMs: number): Promise<Edge[]> {
  const range = promDuration(toMs - fromMs);
  const at = String(toMs / 1000);
  const get = async (m: string) =>
    ((await query('query', { query: `sum by (client, server) (increase(${m}[${range}]))`, time: at })).data.result as Series[]) ?? [];
  const [total, failed] = await Promise.all([get('traces_service_graph_request_total'), get('traces_service_graph_request_failed_total')]);
  const f = new Map(failed.map((s) => [`${s.metric.client}\u0000${s.metric.server}`, Number(s.value![1])]));
  return total
    .map((s) => ({ from: s.metric.client, to: s.metric.server, calls: Math.round(Number(s.value![1])), failed: Math.round(f.get(`${s.metric.client}\u0000${s.metric.server}`) ?? 0) }))
    .filter((e) => e.calls > 0);
}

async function fromTraces(fromMs: number, toMs: number): Promise<Edge[]> {
  const j = await fetchJSON(`jaeger/api/dependencies?endTs=${Math.ceil(toMs)}&lookback=${Math.ceil(toMs - fromMs)}`);
  return (j.data ?? []).map((d: any) => ({ from: d.parent, to: d.child, calls: d.callCount, failed: null }));
}

/// Columns: a node's column is its longest distance from a source.
function layout(edges: Edge[]): Map<string, { x: number; y: number }> {
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  const col = new Map(nodes.map((n) => [n, 0]));
  for (let i = 0; i < nodes.length; i++) for (const e of edges) if (e.from !== e.to) col.set(e.to, Math.max(col.get(e.to)!, Math.min(col.get(e.from)! + 1, nodes.length)));
  const cols = new Map<number, string[]>();
  for (const n of nodes) cols.set(col.get(n)!, [...(cols.get(col.get(n)!) ?? []), n]);
  const pos = new Map<string, { x: number; y: number }>();
  for (const [c, ns] of cols) ns.forEach((n, i) => pos.set(n, { x: 90 + c * 220, y: 50 + i * 90 }));
  return pos;
}

export function ServiceMap({ route }: { route: Route }) {
  const p = route.params;
  const [edges, setEdges] = useState<Edge[] | null>(null);
  const [source, setSource] = useState('');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const now = Date.now();
    let fromMs: number, toMs: number;
    try {
      fromMs = parseTime(p.get('from') ?? DEFAULT_FROM, now);
      toMs = parseTime(p.get('to') ?? DEFAULT_TO, now);
    } catch (e: any) {
      return setError(e.message);
    }
    let live = true;
    (async () => {
      try {
        let e = await fromMetrics(fromMs, toMs);
        let src = 'service graph metrics';
        if (e.length === 0) {
          e = await fromTraces(fromMs, toMs);
          src = 'traces in range (no service graph metrics yet)';
        }
        if (live) {
          setEdges(e);
          setSource(src);
          setError(null);
        }
      } catch (err: any) {
        if (live) setError((err as ApiError).error ?? String(err));
      }
    })();
    return () => {
      live = false;
    };
  }, [p.get('from'), p.get('to')]);
  if (error)
    return (
      <div class="error" role="alert">
        {error}
      </div>
    );
  if (!edges) return <p class="hint">Loading the service map…</p>;
  if (edges.length === 0) return <p class="hint">No calls between services in this range.</p>;
  const pos = layout(edges);
  const W = Math.max(...[...pos.values()].map((q) => q.x)) + 120;
  const H = Math.max(...[...pos.values()].map((q) => q.y)) + 60;
  const search = (svc: string) => setParams('traces', new URLSearchParams({ from: p.get('from') ?? DEFAULT_FROM, to: p.get('to') ?? DEFAULT_TO, service: svc }), true);
  return (
    <div class="service-map">
      <p class="hint">From {source}. Click a service to find its traces.</p>
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label="service map">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280" />
          </marker>
        </defs>
        {edges.map((e) => {
          const a = pos.get(e.from)!,
            b = pos.get(e.to)!;
          const dx = b.x - a.x,
            dy = b.y - a.y,
            len = Math.hypot(dx, dy) || 1;
          const r = 34;
          const bad = e.failed !== null && e.failed > 0;
          return (
            <g class={`edge${bad ? ' err' : ''}`} data-edge={`${e.from}->${e.to}`}>
              <line x1={a.x + (dx / len) * r} y1={a.y + (dy / len) * r} x2={b.x - (dx / len) * r} y2={b.y - (dy / len) * r} marker-end="url(#arrow)" />
              <text x={(a.x + b.x) / 2} y={(a.y + b.y) / 2 - 6} text-anchor="middle">
                {e.calls} calls{e.failed !== null ? `, ${e.failed} failed` : ''}
              </text>
            </g>
          );
        })}
        {[...pos.entries()].map(([n, q]) => (
          <g class="node" data-service={n} onClick={() => search(n)}>
            <circle cx={q.x} cy={q.y} r={30} style={{ stroke: serviceColor(n) }} />
            <text x={q.x} y={q.y + 4} text-anchor="middle">
              {n.length > 14 ? n.slice(0, 13) + '…' : n}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}

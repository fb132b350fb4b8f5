// The traces panel, as Grafana's `traces` panel over a Tempo query: a
// target whose query is a trace id shows that trace's waterfall; a TraceQL
// query shows the matching traces (root, start, duration), each linked to
// the Traces page. The panel fetches on its own (Tempo's `api/search`,
// Jaeger's `jaeger/api/traces/ID`), not through the metric frames.
import { useEffect, useState } from 'preact/hooks';
import { Panel } from '../model';
import { Scope, interpolate } from '../vars';
import { ApiError, fetchJSON } from '../../api';
import { TraceView } from '../../components/waterfall';
import { JTrace, fmtDuration } from '../../components/tracemodel';

interface Props {
  panel: Panel;
  scope: Scope;
  fromMs: number;
  toMs: number;
  tick: number;
}

export function TracesPanel({ panel, scope, fromMs, toMs, tick }: Props) {
  const raw = (panel.targets ?? []).find((t: any) => !t.hide && (t.query ?? t.expr)) as any;
  const query = raw ? interpolate(String(raw.query ?? raw.expr), scope, 'raw').trim() : '';
  const [trace, setTrace] = useState<JTrace | null>(null);
  const [found, setFound] = useState<any[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setError(null);
    if (!query) return;
    if (/^[0-9a-fA-F]{1,32}$/.test(query)) {
      fetchJSON(`jaeger/api/traces/${query}`)
        .then((j) => setTrace(j.data?.[0] ?? null))
        .catch((e: ApiError) => setError(e.status === 404 ? `Trace ${query} was not found.` : e.error));
      return;
    }
    const p = new URLSearchParams({ q: query, start: String(Math.floor(fromMs / 1000)), end: String(Math.ceil(toMs / 1000)), limit: String(raw?.limit ?? 20) });
    fetchJSON(`api/search?${p}`)
      .then((j) => setFound(j.traces ?? []))
      .catch((e: ApiError) => setError(e.error));
  }, [query, fromMs, toMs, tick]);
  if (!query) return <div class="panel-msg">No queries</div>;
  if (error) return <div class="panel-msg error-msg">{error}</div>;
  if (trace) return <div class="traces-panel"><TraceView trace={trace} /></div>;
  if (!found) return <div class="panel-msg">Loading…</div>;
  if (!found.length)
    return (
      <div class="panel-msg">
        No traces for <code class="q">{query}</code>
      </div>
    );
  return (
    <div class="traces-panel">
      <table class="result traces">
        <thead>
          <tr>
            <th>Trace</th>
            <th>Start</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {found.map((t) => (
            <tr>
              <td>
                <a href={`#/traces/${t.traceID}?from=${fromMs}&to=${toMs}`}>
                  {t.rootServiceName}: {t.rootTraceName}
                </a>
              </td>
              <td>{new Date(Number(BigInt(t.startTimeUnixNano) / 1_000_000n)).toISOString().replace('T', ' ').slice(0, 23)}</td>
              <td>{fmtDuration((t.durationMs ?? 0) * 1000)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

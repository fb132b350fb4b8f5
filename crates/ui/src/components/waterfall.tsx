// The trace view: a header (root, duration, services, span count), a
// waterfall of spans (indented by parent, bars on the trace's timeline,
// colored by service, errors marked, the critical path drawn dark) and,
// for a clicked span, its attributes, resource, events, links and the
// ways to its logs and metrics.
import { useMemo, useState } from 'preact/hooks';
import { JSpan, JTag, JTrace, Node, buildTree, criticalPath, flatten, fmtDuration, serviceColor } from './tracemodel';

function TagTable({ tags }: { tags: JTag[] }) {
  if (tags.length === 0) return <p class="hint">none</p>;
  return (
    <table class="result tags">
      <tbody>
        {tags.map((t) => (
          <tr>
            <th>{t.key}</th>
            <td>{typeof t.value === 'string' ? t.value : JSON.stringify(t.value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function logsQuery(service: string, traceID: string, byField: boolean): string {
  const sel = `{service_name="${service}"}`;
  return byField ? `${sel} | trace_id="${traceID}"` : `${sel} |= "${traceID}"`;
}

function SpanDetails({ node, trace, fromUs, toUs }: { node: Node; trace: JTrace; fromUs: number; toUs: number }) {
  const s = node.span;
  const proc = trace.processes[s.processID];
  // The trace's window, with a minute either side, for the linked views.
  const range = `from=${Math.floor(fromUs / 1000) - 60_000}&to=${Math.ceil(toUs / 1000) + 60_000}`;
  const rate = `sum by (span_name) (rate(traces_spanmetrics_calls_total{service="${node.service}", span_name="${s.operationName}"}[5m]))`;
  return (
    <div class="span-details" data-span={s.spanID}>
      <div class="span-links">
        <code>{s.spanID}</code>
        <span class="badge">{fmtDuration(s.duration)}</span>
        <span class="badge">starts at +{fmtDuration(s.startTime - fromUs)}</span>
        <a class="button" href={`#/logs?query=${encodeURIComponent(logsQuery(node.service, s.traceID, false))}&${range}`}>Logs with this trace id</a>
        <a class="button" href={`#/logs?query=${encodeURIComponent(logsQuery(node.service, s.traceID, true))}&${range}`}>Logs by trace_id field</a>
        <a class="button" href={`#/explore?expr=${encodeURIComponent(rate)}`}>Span metrics</a>
      </div>
      <h4>Attributes</h4>
      <TagTable tags={s.tags} />
      <h4>Resource ({proc?.serviceName})</h4>
      <TagTable tags={proc?.tags ?? []} />
      {s.logs.length > 0 && (
        <>
          <h4>Events</h4>
          {s.logs.map((l) => (
            <div class="span-event">
              <span class="badge">+{fmtDuration(l.timestamp - s.startTime)}</span>
              <TagTable tags={l.fields} />
            </div>
          ))}
        </>
      )}
      {s.references.length > 0 && (
        <>
          <h4>References</h4>
          <ul>
            {s.references.map((r) => (
              <li>
                {r.refType === 'CHILD_OF' ? 'child of' : 'linked to'}{' '}
                {r.traceID === s.traceID ? <code>{r.spanID}</code> : <a href={`#/traces/${r.traceID}`}>{r.traceID} / {r.spanID}</a>}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export function TraceView({ trace }: { trace: JTrace }) {
  const roots = useMemo(() => buildTree(trace), [trace]);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<string | null>(null);
  const [showPath, setShowPath] = useState(true);
  const fromUs = Math.min(...trace.spans.map((s) => s.startTime));
  const toUs = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  const total = Math.max(toUs - fromUs, 1);
  const rows = flatten(roots, collapsed);
  const path = useMemo(() => {
    const bySpan = new Map<string, { start: number; end: number }[]>();
    const main = roots.reduce((a, b) => (b.span.duration > a.span.duration ? b : a), roots[0]);
    if (main) for (const seg of criticalPath(main)) bySpan.set(seg.spanID, [...(bySpan.get(seg.spanID) ?? []), seg]);
    return bySpan;
  }, [roots]);
  const services = new Set(trace.spans.map((s) => trace.processes[s.processID]?.serviceName));
  const root = roots[0];
  const errors = trace.spans.filter((s) => rows.find((r) => r.span === s)?.error).length;
  const pct = (us: number) => `${((us - fromUs) / total) * 100}%`;
  const toggle = (id: string) => {
    const n = new Set(collapsed);
    n.has(id) ? n.delete(id) : n.add(id);
    setCollapsed(n);
  };
  return (
    <div class="trace-view">
      <div class="trace-head">
        <h2>
          {root ? `${root.service}: ${root.span.operationName}` : trace.traceID}
        </h2>
        <span class="badge">{trace.traceID}</span>
        <span class="badge">{fmtDuration(total)}</span>
        <span class="badge">{trace.spans.length} spans</span>
        <span class="badge">{services.size} services</span>
        {errors > 0 && <span class="badge err">{errors === 1 ? "1 error" : `${errors} errors`}</span>}
        <span class="hint">{new Date(fromUs / 1000).toISOString()}</span>
        <label class="hint">
          <input type="checkbox" checked={showPath} onChange={() => setShowPath(!showPath)} /> critical path
        </label>
      </div>
      <div class="waterfall" role="tree">
        <div class="wf-row wf-ruler">
          <div class="wf-name" />
          <div class="wf-track">
            {[0, 0.25, 0.5, 0.75].map((f) => (
              <span style={{ left: `${f * 100}%` }}>{fmtDuration(Math.round(total * f))}</span>
            ))}
            <span style={{ right: 0 }}>{fmtDuration(total)}</span>
          </div>
        </div>
        {rows.map((n) => {
          const s = n.span;
          const color = serviceColor(n.service);
          return (
            <>
              <div class={`wf-row${open === s.spanID ? ' open' : ''}${n.error ? ' error' : ''}`} role="treeitem" data-span={s.spanID} onClick={() => setOpen(open === s.spanID ? null : s.spanID)}>
                <div class="wf-name" style={{ paddingLeft: `${n.depth * 14 + 4}px` }}>
                  {n.children.length > 0 ? (
                    <button
                      class="wf-toggle"
                      title={collapsed.has(s.spanID) ? 'expand' : 'collapse'}
                      onClick={(e) => {
                        e.stopPropagation();
                        toggle(s.spanID);
                      }}
                    >
                      {collapsed.has(s.spanID) ? '▸' : '▾'}
                    </button>
                  ) : (
                    <span class="wf-toggle" />
                  )}
                  <span class="wf-svc" style={{ borderColor: color }}>
                    {n.service}
                  </span>{' '}
                  {n.error && <span class="err-mark" title="error">!</span>}
                  <span class="wf-op">{s.operationName}</span>
                </div>
                <div class="wf-track">
                  <div class="wf-bar" style={{ left: pct(s.startTime), width: `max(2px, ${(s.duration / total) * 100}%)`, background: color }} />
                  {showPath &&
                    (path.get(s.spanID) ?? []).map((seg) => <div class="wf-path" style={{ left: pct(seg.start), width: `${((seg.end - seg.start) / total) * 100}%` }} />)}
                  <span class="wf-dur" style={{ left: pct(s.startTime + s.duration) }}>
                    {fmtDuration(s.duration)}
                  </span>
                </div>
              </div>
              {open === s.spanID && <SpanDetails node={n} trace={trace} fromUs={fromUs} toUs={toUs} />}
            </>
          );
        })}
      </div>
    </div>
  );
}

export type { JSpan };

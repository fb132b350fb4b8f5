// One panel of a dashboard: its header, its queries (run when it scrolls
// into view, again when the time range, variables or refresh tick change)
// and its view by type. A panel always says why it has nothing to show:
// loading, the API's error, no data for its queries, or a type we do not
// draw.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Panel } from './model';
import { PanelData, runPanel } from './data';
import { Scope, interpolate } from './vars';
import { TimeSeriesPanel } from './panels/timeseries';
import { StatPanel, GaugePanel, BarGaugePanel } from './panels/single';
import { TablePanel } from './panels/table';
import { TextPanel } from './panels/text';
import { HeatmapPanel } from './panels/heatmap';
import { LogsPanel } from './panels/logs';
import { TracesPanel } from './panels/traces';

/// Panel types drawn here.
export const PANEL_TYPES = ['timeseries', 'stat', 'gauge', 'bargauge', 'table', 'text', 'heatmap', 'logs', 'traces'];

interface Props {
  panel: Panel;
  scope: Scope;
  /// Changes when the variables' values change.
  scopeKey: string;
  fromMs: number;
  toMs: number;
  tick: number;
  scrapeMs: number;
  editing?: boolean;
  onMenu?: (action: 'edit' | 'duplicate' | 'remove' | 'explore') => void;
  /// Pointer down on the header or the resize corner (edit mode).
  onGrab?: (e: PointerEvent, kind: 'move' | 'resize') => void;
}

export function PanelView(props: Props) {
  const { panel, scope, scopeKey, fromMs, toMs, tick, scrapeMs, editing } = props;
  const el = useRef<HTMLDivElement>(null);
  const [visible, setVisible] = useState(false);
  const [data, setData] = useState<PanelData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  // Text and traces panels fetch (or hold) what they show themselves.
  const needsData = panel.type !== 'text' && panel.type !== 'traces' && panel.type !== 'row' && PANEL_TYPES.includes(panel.type);

  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const io = new IntersectionObserver((es) => es.some((e) => e.isIntersecting) && setVisible(true), { rootMargin: '300px' });
    io.observe(node);
    return () => io.disconnect();
  }, []);

  const targetsKey = JSON.stringify([panel.targets, panel.interval, panel.maxDataPoints, panel.type]);
  useEffect(() => {
    if (!visible || !needsData) return;
    const ctl = new AbortController();
    setLoading(true);
    const width = el.current?.clientWidth ?? 600;
    // Stat-like panels without a sparkline need only the last value, but
    // Grafana runs their range queries too (the reducer may need them).
    runPanel(panel, scope, fromMs, toMs, width, scrapeMs, ctl.signal)
      .then((d) => {
        setData(d);
        setError(d.error ?? null);
      })
      .catch((e) => {
        if (e?.name !== 'AbortError') setError(String(e?.error ?? e));
      })
      .finally(() => !ctl.signal.aborted && setLoading(false));
    return () => ctl.abort();
  }, [visible, targetsKey, scopeKey, fromMs, toMs, tick, scrapeMs]);

  const title = interpolate(panel.title ?? '', scope, 'raw');
  let body;
  if (!PANEL_TYPES.includes(panel.type)) {
    body = (
      <div class="panel-msg">
        Panel type <code>{panel.type}</code> is not drawn by Sightline (it draws {PANEL_TYPES.join(', ')}).
      </div>
    );
  } else if (panel.type === 'text') {
    body = <TextPanel panel={panel} scope={scope} />;
  } else if (panel.type === 'traces') {
    body = visible ? <TracesPanel panel={panel} scope={scope} fromMs={fromMs} toMs={toMs} tick={tick} /> : <div class="panel-msg" />;
  } else if (!data) {
    body = error ? <div class="panel-msg error-msg">{error}</div> : <div class="panel-msg">{visible ? 'Loading…' : ''}</div>;
  } else if (panel.type === 'logs' ? !data.logs.length : !data.frames.length) {
    body = (
      <div class="panel-msg">
        {error ? <div class="error-msg">{error}</div> : null}
        {!error && (data.queries.length ? <>No data for {data.queries.map((q) => <code class="q">{q}</code>)}</> : 'No queries')}
      </div>
    );
  } else {
    const View = { timeseries: TimeSeriesPanel, stat: StatPanel, gauge: GaugePanel, bargauge: BarGaugePanel, table: TablePanel, heatmap: HeatmapPanel, logs: LogsPanel }[panel.type]!;
    body = (
      <>
        {error && <div class="panel-error" title={error}>!</div>}
        <View panel={panel} data={data} />
      </>
    );
  }

  return (
    <div class={`panel type-${panel.type} ${editing ? 'editing' : ''}`} ref={el} data-type={panel.type} data-state={!PANEL_TYPES.includes(panel.type) ? 'unsupported' : error ? 'error' : data ? (data.frames.length || data.logs.length ? 'data' : 'nodata') : panel.type === 'text' || panel.type === 'traces' ? 'data' : 'loading'}>
      <div class="panel-head" onPointerDown={(e) => editing && props.onGrab?.(e as PointerEvent, 'move')}>
        <span class="panel-title" title={panel.description}>
          {title}
        </span>
        {loading && <span class="spinner" />}
        {props.onMenu && (
          <span class="panel-menu" onPointerDown={(e) => e.stopPropagation()}>
            {panel.type !== 'text' && <button title="Open in Explore" onClick={() => props.onMenu!('explore')}>↗</button>}
            {editing && (
              <>
                <button onClick={() => props.onMenu!('edit')}>Edit</button>
                <button onClick={() => props.onMenu!('duplicate')}>Duplicate</button>
                <button onClick={() => props.onMenu!('remove')}>Remove</button>
              </>
            )}
          </span>
        )}
      </div>
      <div class="panel-body">{body}</div>
      {editing && <div class="resize" onPointerDown={(e) => props.onGrab?.(e as PointerEvent, 'resize')} />}
    </div>
  );
}

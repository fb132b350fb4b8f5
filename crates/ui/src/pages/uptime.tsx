// The Uptime page (`#/uptime?span=24h|90d`): every probe monitor target
// from `/api/v1/uptime` with its uptime over 24 h, 7 d, 30 d and 90 d, a
// strip of up/down bars from `probe_success` (Uptime Kuma style), the
// certificate's days left, then the response time over the page's time
// range and the outages with their causes.
import { useEffect, useState } from 'preact/hooks';
import { Series } from '../api';
import { Chart } from '../chart';
import {
  Monitor,
  SPANS,
  Span,
  UptimeBars,
  WINDOWS,
  duration,
  pct,
  queryRange,
  useBars,
  useUptime,
  when,
} from '../components/uptime';
import { Route, setParams } from '../route';
import { DEFAULT_FROM, DEFAULT_TO, autoStep, parseTime } from '../time';

export function UptimePage({ route }: { route: Route }) {
  const span: Span = route.params.get('span') === '90d' ? '90d' : '24h';
  const { data, error } = useUptime();
  const { bars, error: barsError } = useBars(span);
  const setSpan = (s: Span) => {
    const p = new URLSearchParams(route.params);
    p.set('span', s);
    setParams(route.path, p);
  };
  if (error) return <div class="error">{error}</div>;
  if (!data) return <p class="hint">Loading…</p>;
  const outages = data.flatMap((m) => m.outages.map((o) => ({ ...o, monitor: m.monitor, target: m.target })));
  outages.sort((a, b) => b.start.localeCompare(a.start));
  return (
    <div class="uptime-page">
      <h1>Uptime</h1>
      {!data.length && (
        <p class="hint">
          No monitors. Add <code>probes.monitors</code> to the configuration (see docs/probes.md).
        </p>
      )}
      {barsError && <div class="error">{barsError}</div>}
      <div class="tabs">
        {(Object.keys(SPANS) as Span[]).map((s) => (
          <button class={'tab' + (s === span ? ' active' : '')} onClick={() => setSpan(s)}>
            Last {s}
          </button>
        ))}
        <span class="hint">one bar per {span === '24h' ? '15 minutes' : 'day'}</span>
      </div>
      <table class="monitors">
        <thead>
          <tr>
            <th>monitor</th>
            <th>status</th>
            {WINDOWS.map((w) => (
              <th class="num">{w}</th>
            ))}
            <th>last {span}</th>
            <th>certificate</th>
          </tr>
        </thead>
        <tbody>
          {data.map((m) => (
            <MonitorRow m={m} span={span} bars={bars?.get(`${m.monitor}/${m.target}`)} />
          ))}
        </tbody>
      </table>
      <ResponseTime route={route} keys={data.map((m) => `${m.monitor}/${m.target}`).join('\n')} />
      <h2>Outages</h2>
      {outages.length ? (
        <table class="result outages">
          <thead>
            <tr>
              <th>monitor</th>
              <th>target</th>
              <th>started</th>
              <th>ended</th>
              <th>lasted</th>
              <th>cause</th>
            </tr>
          </thead>
          <tbody>
            {outages.map((o) => (
              <tr class={o.end ? '' : 'ongoing'}>
                <td>{o.monitor}</td>
                <td>{o.target}</td>
                <td>{when(o.start)}</td>
                <td>{o.end ? when(o.end) : 'ongoing'}</td>
                <td>{duration((o.end ? Date.parse(o.end) : Date.now()) - Date.parse(o.start))}</td>
                <td class="cause">{o.cause}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="hint">No outages in the last 90 days.</p>
      )}
    </div>
  );
}

function MonitorRow({ m, span, bars }: { m: Monitor; span: Span; bars?: { t: number; up: number | null }[] }) {
  const cert = m.certDaysLeft;
  return (
    <tr class="monitor" data-monitor={m.monitor}>
      <td>
        <strong>{m.monitor}</strong>
        <div class="hint target">{m.target}</div>
      </td>
      <td>
        <span class={'pill ' + (m.up ? 'ok' : 'bad')}>{m.up ? 'up' : 'down'}</span>
      </td>
      {WINDOWS.map((w) => (
        <td class="num ratio" data-window={w}>
          {pct(m.uptime[w])}
        </td>
      ))}
      <td>
        <UptimeBars bars={bars} span={span} />
      </td>
      <td
        class={'cert' + (cert != null && cert < 14 ? ' soon' : '')}
        title={cert == null ? 'no TLS certificate seen' : `expires ${new Date(Date.now() + cert * 864e5).toISOString().slice(0, 10)}`}
      >
        {cert == null ? '-' : cert < 0 ? `expired ${Math.round(-cert)} days ago` : `${Math.floor(cert)} days left`}
      </td>
    </tr>
  );
}

/// `probe_duration_seconds` of every monitor target over the page's range.
function ResponseTime({ route, keys }: { route: Route; keys: string }) {
  const from = route.params.get('from') ?? DEFAULT_FROM;
  const to = route.params.get('to') ?? DEFAULT_TO;
  const [state, setState] = useState<{ series?: Series[]; error?: string; fromMs: number; toMs: number; stepS: number } | null>(null);
  useEffect(() => {
    let live = true;
    const now = Date.now();
    let fromMs: number, toMs: number;
    try {
      fromMs = parseTime(from, now);
      toMs = parseTime(to, now);
    } catch (e: any) {
      setState({ error: e.message, fromMs: 0, toMs: 0, stepS: 1 });
      return;
    }
    const stepS = autoStep(fromMs, toMs);
    // Only the monitors' own series (job = monitor, instance = target): a
    // blackbox_exporter scraped as a target has the same metric name.
    const wanted = new Set(keys.split('\n'));
    queryRange('probe_duration_seconds', Math.floor(fromMs / 1000), Math.floor(toMs / 1000), stepS).then(
      (all) => {
        const series = all.filter((s) => wanted.has(`${s.metric.job}/${s.metric.instance}`));
        for (const s of series) s.metric = { __name__: `${s.metric.job} ${s.metric.instance}` };
        live && setState({ series, fromMs, toMs, stepS });
      },
      (e) => live && setState({ error: String(e.message ?? e), fromMs, toMs, stepS }),
    );
    return () => {
      live = false;
    };
  }, [from, to, keys]);
  const zoom = (a: number, b: number) => {
    const p = new URLSearchParams(route.params);
    p.set('from', String(a));
    p.set('to', String(b));
    setParams(route.path, p, true);
  };
  return (
    <section class="response-time">
      <h2>Response time (seconds)</h2>
      {state?.error && <div class="error">{state.error}</div>}
      {state?.series &&
        (state.series.length ? (
          <Chart
            series={state.series}
            fromMs={state.fromMs}
            toMs={state.toMs}
            stepS={state.stepS}
            stacked={false}
            points={false}
            onZoom={zoom}
          />
        ) : (
          <p class="hint">No probe results in this time range.</p>
        ))}
    </section>
  );
}

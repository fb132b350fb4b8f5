// The SLOs page: `#/slos` lists every SLO of `/api/v1/slos` (objective,
// budget left, current burn rate, a status colour); `#/slos/<name or id>`
// shows one: its figures, the burn rate per window over the page's time
// range (from the generated `slo:sli_error:ratio_rate<w>` recordings) and
// the burn-down of the error budget over the SLO window.
import { useEffect, useState } from 'preact/hooks';
import { Series } from '../api';
import { Chart } from '../chart';
import { BudgetChart } from '../components/budgetchart';
import { duration, getData, queryRange } from '../components/uptime';
import { Route, href, setParams } from '../route';
import { DEFAULT_FROM, DEFAULT_TO, autoStep, parseTime } from '../time';

/// One element of `/api/v1/slos` (crates/slo/src/report.rs, SloStatus).
export interface Slo {
  id: string;
  service: string;
  name: string;
  description: string;
  objective: number;
  window: string;
  labels: Record<string, string>;
  source: string;
  sli_now: number | null;
  sli_window: number | null;
  error_budget: number;
  budget_total_seconds: number;
  data_seconds: number | null;
  data_coverage: number | null;
  budget_spent: number | null;
  budget_remaining: number | null;
  budget_remaining_seconds: number | null;
  burn_rates: { window: string; error_ratio: number | null; burn_rate: number | null; partial: boolean }[];
  alerts: { severity: string; state: string }[];
  exhaustion_seconds: number | null;
  warnings: string[];
}

/// Figures as the page prints them (the browser test prints the API's
/// numbers the same way and compares).
export const fmtPct = (v: number | null | undefined, d = 1) => (v == null ? '-' : `${(v * 100).toFixed(d)}%`);
export const fmtBurn = (v: number | null | undefined) => (v == null ? '-' : `${v.toFixed(2)}x`);

/// The current burn rate: the 5m window's.
function currentBurn(s: Slo): number | null {
  return s.burn_rates.find((b) => b.window === '5m')?.burn_rate ?? null;
}

/// Red: budget spent or the page alert firing; amber: a ticket firing or
/// burning faster than the budget allows; green otherwise.
function status(s: Slo): 'bad' | 'warn' | 'ok' {
  const firing = (sev: string) => s.alerts.some((a) => a.severity === sev && a.state === 'firing');
  if ((s.budget_remaining ?? 1) <= 0 || firing('page')) return 'bad';
  if (firing('ticket') || (currentBurn(s) ?? 0) > 1) return 'warn';
  return 'ok';
}

const WINDOW_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };

/// Seconds of a window name (`5m`, `30d`, `4w`, `month` as 30 days).
function windowSeconds(w: string): number {
  if (w === 'month' || w === '_month') return 30 * 86400;
  let s = 0;
  for (const [, n, u] of w.matchAll(/(\d+)([smhdwy])/g)) s += Number(n) * WINDOW_S[u];
  return s;
}

function useSlos(): { data?: Slo[]; error?: string } {
  const [state, setState] = useState<{ data?: Slo[]; error?: string }>({});
  useEffect(() => {
    let live = true;
    const load = () =>
      getData<Slo[]>('api/v1/slos').then(
        (data) => live && setState({ data }),
        (e) => live && setState({ error: String(e.message ?? e) }),
      );
    load();
    // The figures move with every rule evaluation.
    const t = setInterval(load, 30_000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, []);
  return state;
}

export function SLOsPage({ route }: { route: Route }) {
  const { data, error } = useSlos();
  const key = decodeURIComponent(route.path.split('/').slice(1).join('/'));
  if (error) return <div class="error">{error}</div>;
  if (!data) return <p class="hint">Loading…</p>;
  if (key) {
    const slo = data.find((s) => s.id === key) ?? data.find((s) => s.name === key);
    if (!slo)
      return (
        <div class="placeholder">
          <h1>No SLO {key}</h1>
          <p>
            <a href={href('slos', route.params)}>All SLOs</a>
          </p>
        </div>
      );
    return <SloDetail slo={slo} route={route} />;
  }
  return <SloList slos={data} route={route} />;
}

function SloList({ slos, route }: { slos: Slo[]; route: Route }) {
  const unique = (s: Slo) => slos.filter((o) => o.name === s.name).length === 1;
  return (
    <div class="slos-page">
      <h1>SLOs</h1>
      {!slos.length && (
        <p class="hint">
          No SLOs. Name spec files under <code>slos:</code> in the configuration (see docs/slo.md).
        </p>
      )}
      {slos.length > 0 && (
        <table class="result slos">
          <thead>
            <tr>
              <th />
              <th>service</th>
              <th>SLO</th>
              <th class="num">objective</th>
              <th class="num">window</th>
              <th class="num">budget left</th>
              <th class="num">burn rate (5m)</th>
              <th>alerts</th>
            </tr>
          </thead>
          <tbody>
            {slos.map((s) => (
              <tr class="slo" data-id={s.id}>
                <td>
                  <span class={'dot ' + status(s)} title={status(s)} />
                </td>
                <td>{s.service}</td>
                <td>
                  <a href={href(`slos/${encodeURIComponent(unique(s) ? s.name : s.id)}`, route.params)}>{s.name}</a>
                </td>
                <td class="num objective">{fmtPct(s.objective, 3).replace(/\.?0+%$/, '%')}</td>
                <td class="num">{s.window}</td>
                <td class="num budget">{fmtPct(s.budget_remaining)}</td>
                <td class="num burn">{fmtBurn(currentBurn(s))}</td>
                <td>{alertText(s)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function alertText(s: Slo): string {
  const on = s.alerts.filter((a) => a.state !== 'inactive').map((a) => `${a.severity} ${a.state}`);
  return on.length ? on.join(', ') : 'none';
}

function Stat({ label, value, sub, cls }: { label: string; value: string; sub?: string; cls?: string }) {
  return (
    <div class={'stat ' + (cls ?? '')} data-stat={label}>
      <div class="label">{label}</div>
      <div class="value">{value}</div>
      {sub && <div class="sub hint">{sub}</div>}
    </div>
  );
}

function SloDetail({ slo, route }: { slo: Slo; route: Route }) {
  const st = status(slo);
  return (
    <div class="slo-detail">
      <p>
        <a href={href('slos', route.params)}>SLOs</a> / {slo.service}
      </p>
      <h1>
        <span class={'dot ' + st} /> {slo.name}
      </h1>
      {slo.description && <p class="hint">{slo.description}</p>}
      {slo.warnings.map((w) => (
        <div class="warning">{w}</div>
      ))}
      <div class="stats">
        <Stat
          label="budget left"
          value={fmtPct(slo.budget_remaining)}
          sub={
            slo.data_seconds == null
              ? 'data time not measured yet: as if the errors had lasted the whole window'
              : slo.budget_remaining_seconds == null
                ? undefined
                : `${duration(slo.budget_remaining_seconds * 1000)} of ${duration(slo.budget_total_seconds * 1000)} outage`
          }
          cls={st}
        />
        <Stat label="objective" value={fmtPct(slo.objective, 3).replace(/\.?0+%$/, '%')} sub={`over ${slo.window}`} />
        <Stat label="SLI (5m)" value={fmtPct(slo.sli_now, 3)} />
        <Stat label={`SLI (${slo.window})`} value={fmtPct(slo.sli_window, 3)} />
        <Stat label="burn rate (5m)" value={fmtBurn(currentBurn(slo))} />
        <Stat
          label="budget gone in"
          value={slo.exhaustion_seconds == null ? 'not burning' : duration(slo.exhaustion_seconds * 1000)}
          sub="at the current burn rate"
        />
        <Stat label="data" value={fmtPct(slo.data_coverage, 2)} sub={`of the ${slo.window} window`} />
        <Stat label="alerts" value={alertText(slo)} />
      </div>
      <BurnRates slo={slo} route={route} />
      <BurnDown slo={slo} />
    </div>
  );
}

/// The error ratio of every recorded window divided by the budget, over
/// the page's time range: one line per window.
function BurnRates({ slo, route }: { slo: Slo; route: Route }) {
  const from = route.params.get('from') ?? DEFAULT_FROM;
  const to = route.params.get('to') ?? DEFAULT_TO;
  const [state, setState] = useState<ChartState | null>(null);
  useEffect(() => {
    let live = true;
    const now = Date.now();
    let fromMs: number, toMs: number;
    try {
      fromMs = parseTime(from, now);
      toMs = parseTime(to, now);
    } catch (e: any) {
      setState({ error: e.message });
      return;
    }
    const stepS = autoStep(fromMs, toMs);
    const expr = `{__name__=~"slo:sli_error:ratio_rate.+", sloth_id="${slo.id}"} / ${slo.error_budget}`;
    queryRange(expr, Math.floor(fromMs / 1000), Math.floor(toMs / 1000), stepS).then(
      (series) => {
        series.sort((a, b) => windowSeconds(a.metric.sloth_window ?? '') - windowSeconds(b.metric.sloth_window ?? ''));
        for (const s of series) s.metric = { __name__: `burn rate ${s.metric.sloth_window ?? ''}` };
        live && setState({ series, fromMs, toMs, stepS });
      },
      (e) => live && setState({ error: String(e.message ?? e) }),
    );
    return () => {
      live = false;
    };
  }, [slo.id, from, to]);
  const zoom = (a: number, b: number) => {
    const p = new URLSearchParams(route.params);
    p.set('from', String(a));
    p.set('to', String(b));
    setParams(route.path, p, true);
  };
  return (
    <section class="burn-rates">
      <h2>Burn rate by window</h2>
      <p class="hint">1x spends the budget exactly over {slo.window}; the page alert fires at 14.4x (1h and 5m), the ticket at 3x (1d and 2h) for a 30d window.</p>
      <ChartOrMessage state={state} onZoom={zoom} empty="No SLI recordings in this time range: are the SLO's rules running?" />
    </section>
  );
}

interface ChartState {
  series?: Series[];
  error?: string;
  fromMs?: number;
  toMs?: number;
  stepS?: number;
}

function ChartOrMessage({ state, onZoom, empty }: { state: ChartState | null; onZoom: (a: number, b: number) => void; empty: string }) {
  // A line needs two points: right after start a series may have one.
  if (!state) return <p class="hint">Loading…</p>;
  if (state.error) return <div class="error">{state.error}</div>;
  if (!state.series?.length) return <p class="hint">{empty}</p>;
  return (
    <Chart
      series={state.series}
      fromMs={state.fromMs!}
      toMs={state.toMs!}
      stepS={state.stepS!}
      stacked={false}
      points={state.series.every((s) => (s.values?.length ?? 0) < 3)}
      onZoom={onZoom}
    />
  );
}

/// The budget left over the SLO window. Each point is the budget spent by
/// the errors of its interval (the 5m error ratio, sampled at most a
/// minute apart, as the API measures data time), summed over the window
/// before it: the
/// figure the API reports, drawn over time. Shown from where the data
/// begins when that is less than the window (right after start a 30-day
/// chart would be one dot at its right edge).
function BurnDown({ slo }: { slo: Slo }) {
  const [state, setState] = useState<{ values?: [number, number][]; error?: string; fromMs?: number; toMs?: number } | null>(
    null,
  );
  useEffect(() => {
    let live = true;
    const windowS = windowSeconds(slo.window);
    const nowS = Math.floor(Date.now() / 1000);
    // Unknown data time (the API could not measure it yet, the first
    // minute after start): the last hour.
    const dataS = slo.data_seconds ?? 0;
    const shownS = Math.min(windowS, Math.max(3600, Math.ceil(dataS * 1.2)));
    const stepS = Math.max(10, Math.ceil(shownS / 200 / 10) * 10);
    // Sampling the 5m ratio: each minute over a long window (as the API
    // counts data time), finer over a short one so the first seconds of
    // data show.
    const resS = Math.min(60, Math.max(1, Math.floor(stepS / 10)));
    const end = nowS;
    const start = end - Math.floor(shownS / stepS) * stepS;
    // The rolling sum needs a window of intervals before the first point.
    const fetchStart = shownS >= windowS ? start - Math.floor(windowS / stepS) * stepS : start;
    const expr =
      `sum_over_time((slo:sli_error:ratio_rate5m{sloth_id="${slo.id}"} >= 0)[${stepS}s:${resS}s]) * ${resS}` +
      ` / ${slo.budget_total_seconds}`;
    queryRange(expr, fetchStart, end, stepS).then(
      (raw) => {
        const spent = new Map<number, number>();
        for (const s of raw) for (const [t, v] of s.values ?? []) spent.set(Math.round(t), Math.max(spent.get(Math.round(t)) ?? 0, parseFloat(v)));
        const perWindow = Math.floor(windowS / stepS);
        const values: [number, number][] = [];
        let first: number | undefined;
        for (let t = start; t <= end; t += stepS) {
          let sum = 0;
          let any = false;
          for (let i = 0; i < perWindow; i++) {
            const v = spent.get(t - i * stepS);
            if (v !== undefined) {
              sum += v;
              any = true;
            }
            if (t - i * stepS < fetchStart) break;
          }
          if (any || first !== undefined) {
            first ??= t;
            values.push([t, (1 - sum) * 100]);
          }
        }
        live && setState({ values, fromMs: start * 1000, toMs: end * 1000 });
      },
      (e) => live && setState({ error: String(e.message ?? e) }),
    );
    return () => {
      live = false;
    };
  }, [slo.id]);
  return (
    <section class="burn-down">
      <h2>Error budget burn-down</h2>
      <p class="hint">
        Percent of the {slo.window} budget left (100 = untouched, 0 = spent, below 0 = overspent), over{' '}
        {slo.data_seconds != null && slo.data_seconds < windowSeconds(slo.window) ? 'the data so far' : `the last ${slo.window}`}.
      </p>
      {!state ? (
        <p class="hint">Loading…</p>
      ) : state.error ? (
        <div class="error">{state.error}</div>
      ) : !state.values?.length ? (
        <p class="hint">No SLI data yet.</p>
      ) : (
        <BudgetChart values={state.values} fromMs={state.fromMs!} toMs={state.toMs!} />
      )}
    </section>
  );
}

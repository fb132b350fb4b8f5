// Golden-signal dashboards made from what the data holds, with no setup:
// for every job exposing `http_requests_total` (the seeds' metric), the
// request rate by status, P50/P95/P99 latency (when a duration histogram
// exists), the error ratio, saturation (the process's CPU and memory), its
// targets' health, its probes' uptime and its SLOs' budgets. The result is
// an ordinary Grafana-model dashboard: save it as a copy to change it.
import { getJSON } from '../api';
import { Dashboard, Panel } from './model';

const REQUESTS = 'http_requests_total';
const DURATIONS = ['http_request_duration_seconds', 'http_server_request_duration_seconds', 'http_server_requests_seconds'];
const STATUS_LABELS = ['code', 'status', 'status_code', 'http_status_code', 'http_response_status_code'];

/// The jobs with request counters, each a service.
export async function services(): Promise<string[]> {
  const jobs: string[] = await getJSON(`api/v1/label/job/values?${new URLSearchParams({ 'match[]': REQUESTS })}`);
  return jobs.sort();
}

function sel(job: string, extra = ''): string {
  return `{job="${job.replace(/["\\]/g, '\\$&')}"${extra ? ', ' + extra : ''}}`;
}

export async function goldenDashboard(job: string): Promise<Dashboard> {
  const match = (m: string) => new URLSearchParams({ 'match[]': `${m}${sel(job)}` });
  const [labels, names] = await Promise.all([
    getJSON<string[]>(`api/v1/labels?${match(REQUESTS)}`),
    getJSON<string[]>(`api/v1/label/__name__/values?${new URLSearchParams({ 'match[]': sel(job) })}`),
  ]);
  const status = STATUS_LABELS.find((l) => labels.includes(l));
  const duration = DURATIONS.find((d) => names.includes(`${d}_bucket`));
  const s = sel(job);
  const errSel = status ? sel(job, `${status}=~"5.."`) : null;
  const panels: Panel[] = [];
  let y = 0;
  let id = 1;
  const add = (p: Omit<Panel, 'id'>) => panels.push({ id: id++, ...p } as Panel);
  const row = (title: string) => {
    add({ type: 'row', title, gridPos: { x: 0, y, w: 24, h: 1 }, collapsed: false, panels: [] });
    y += 1;
  };

  row('Golden signals');
  add({
    type: 'timeseries',
    title: status ? 'Request rate by status' : 'Request rate',
    gridPos: { x: 0, y, w: 12, h: 8 },
    fieldConfig: { defaults: { unit: 'reqps', custom: { stacking: { mode: 'normal', group: 'A' }, fillOpacity: 20 } }, overrides: [] },
    targets: [{ refId: 'A', expr: status ? `sum by (${status}) (rate(${REQUESTS}${s}[$__rate_interval]))` : `sum(rate(${REQUESTS}${s}[$__rate_interval]))`, legendFormat: status ? `{{${status}}}` : 'requests' }],
  });
  if (duration) {
    add({
      type: 'timeseries',
      title: 'Latency P50 / P95 / P99',
      gridPos: { x: 12, y, w: 12, h: 8 },
      fieldConfig: { defaults: { unit: 's' }, overrides: [] },
      targets: [0.5, 0.95, 0.99].map((q, i) => ({
        refId: String.fromCharCode(65 + i),
        expr: `histogram_quantile(${q}, sum by (le) (rate(${duration}_bucket${s}[$__rate_interval])))`,
        legendFormat: `P${Math.round(q * 100)}`,
      })),
    });
  } else {
    add({ type: 'text', title: 'Latency', gridPos: { x: 12, y, w: 12, h: 8 }, options: { mode: 'markdown', content: `No latency histogram for job \`${job}\`: expose \`http_request_duration_seconds\` as a histogram to see P50/P95/P99 here.` } });
  }
  y += 8;
  add({
    type: 'timeseries',
    title: 'Error ratio (5xx)',
    gridPos: { x: 0, y, w: 12, h: 8 },
    fieldConfig: { defaults: { unit: 'percentunit', min: 0, color: { mode: 'fixed', fixedColor: 'red' } }, overrides: [] },
    targets: errSel
      ? [{ refId: 'A', expr: `sum(rate(${REQUESTS}${errSel}[$__rate_interval])) / sum(rate(${REQUESTS}${s}[$__rate_interval]))`, legendFormat: 'errors / requests' }]
      : [],
  });
  add({
    type: 'timeseries',
    title: 'Saturation: CPU and memory',
    gridPos: { x: 12, y, w: 12, h: 8 },
    fieldConfig: {
      defaults: { unit: 'percentunit' },
      overrides: [{ matcher: { id: 'byFrameRefID', options: 'B' }, properties: [{ id: 'unit', value: 'bytes' }, { id: 'custom.axisPlacement', value: 'right' }] }],
    },
    targets: [
      { refId: 'A', expr: `rate(process_cpu_seconds_total${s}[$__rate_interval])`, legendFormat: 'CPU {{instance}}' },
      { refId: 'B', expr: `process_resident_memory_bytes${s}`, legendFormat: 'memory {{instance}}' },
    ],
  });
  y += 8;
  add({
    type: 'stat',
    title: 'Targets up',
    gridPos: { x: 0, y, w: 6, h: 4 },
    fieldConfig: { defaults: { unit: 'none', thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }] } }, overrides: [] },
    options: { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value', graphMode: 'none' },
    targets: [{ refId: 'A', expr: `sum(up${s})`, instant: true }],
  });
  add({
    type: 'stat',
    title: 'Requests over the range',
    gridPos: { x: 6, y, w: 6, h: 4 },
    fieldConfig: { defaults: { unit: 'short' }, overrides: [] },
    options: { reduceOptions: { calcs: ['lastNotNull'] }, graphMode: 'none' },
    targets: [{ refId: 'A', expr: `sum(increase(${REQUESTS}${s}[$__range]))`, instant: true }],
  });

  // Uptime of the probes that check this service (monitors named after
  // the job, or probing one of its instances).
  const [uptime, slos, instances] = await Promise.all([
    getJSON<any[]>('api/v1/uptime').catch(() => []),
    getJSON<any[]>('api/v1/slos').catch(() => []),
    getJSON<string[]>(`api/v1/label/instance/values?${match('up')}`).catch(() => []),
  ]);
  const mine = uptime.filter((m) => m.monitor === job || m.monitor.includes(job) || instances.some((i) => String(m.target).includes(i)));
  const monitors = [...new Set(mine.map((m) => m.monitor as string))];
  if (monitors.length) {
    add({
      type: 'stat',
      title: 'Uptime (24 h)',
      gridPos: { x: 12, y, w: 12, h: 4 },
      fieldConfig: { defaults: { unit: 'percentunit', decimals: 3, thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'orange', value: 0.99 }, { color: 'green', value: 0.999 }] } }, overrides: [] },
      options: { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value', graphMode: 'none', textMode: 'value_and_name' },
      targets: [{ refId: 'A', expr: `avg by (job) (avg_over_time(probe_success{job=~"${monitors.join('|')}"}[24h]))`, legendFormat: '{{job}}', instant: true }],
    });
  }
  y += 4;
  const own = slos.filter((x) => x.service === job);
  if (own.length) {
    row('SLOs');
    add({
      type: 'bargauge',
      title: 'Error budget left',
      gridPos: { x: 0, y, w: 12, h: Math.max(4, own.length * 2 + 2) },
      fieldConfig: { defaults: { unit: 'percentunit', min: 0, max: 1, thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'orange', value: 0.25 }, { color: 'green', value: 0.5 }] } }, overrides: [] },
      options: { reduceOptions: { calcs: ['lastNotNull'] }, orientation: 'horizontal' },
      targets: [{ refId: 'A', expr: `slo:period_error_budget_remaining:ratio{sloth_service="${job}"}`, legendFormat: '{{sloth_slo}}', instant: true }],
    });
    add({
      type: 'timeseries',
      title: 'Burn rate',
      gridPos: { x: 12, y, w: 12, h: Math.max(4, own.length * 2 + 2) },
      fieldConfig: { defaults: { unit: 'none' }, overrides: [] },
      targets: [{ refId: 'A', expr: `slo:current_burn_rate:ratio{sloth_service="${job}"}`, legendFormat: '{{sloth_slo}}' }],
    });
  }
  return {
    uid: `golden-${job}`,
    title: `${job}: golden signals`,
    tags: ['generated', 'golden-signals'],
    panels,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    schemaVersion: 41,
    templating: { list: [] },
  };
}

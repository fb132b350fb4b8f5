// Sightline's web UI: the shell (navigation, the shared time range) and
// the pages. Routes live in the URL fragment, see route.ts; the link
// scheme between signals is in docs/web.md.
import { render } from 'preact';
import './style.css';
import { Explore } from './explore';
import { AlertsPage } from './pages/alerts';
import { IncidentsPage } from './pages/incidents';
import { DashboardsPage } from './pages/dashboards';
import { EventsPage } from './pages/events';
import { LogsPage } from './pages/logs';
import { OperationsPage } from './pages/ops';
import { SLOsPage } from './pages/slos';
import { PublicStatusPage } from './pages/statuspage';
import { TracesPage } from './pages/traces';
import { UptimePage } from './pages/uptime';
import { Route, href, setParams, useRoute } from './route';
import { DEFAULT_FROM, DEFAULT_TO, RANGES, parseTime } from './time';
import { useState } from 'preact/hooks';

interface Page {
  path: string;
  title: string;
  /// Set for signals whose views arrive with a later issue.
  coming?: string;
  /// The page's view; each lives in its own module under pages/.
  view?: (props: { route: Route }) => preact.JSX.Element;
}

/// The navigation, in order. A route's first path segment names its page
/// (`#/ops/targets` is the Operations page, sub-page `targets`).
const PAGES: Page[] = [
  { path: 'explore', title: 'Explore', view: Explore },
  { path: 'dashboards', title: 'Dashboards', view: DashboardsPage },
  { path: 'alerts', title: 'Alerts', view: AlertsPage },
  { path: 'incidents', title: 'Incidents', view: IncidentsPage },
  { path: 'slos', title: 'SLOs', view: SLOsPage },
  { path: 'uptime', title: 'Uptime', view: UptimePage },
  { path: 'ops', title: 'Operations', view: OperationsPage },
  { path: 'logs', title: 'Logs', view: LogsPage },
  { path: 'traces', title: 'Traces', view: TracesPage },
  { path: 'events', title: 'Events', view: EventsPage },
];

function Nav({ route }: { route: Route }) {
  return (
    <nav class="nav">
      <a class="brand" href={href('explore', route.params)}>
        Sightline
      </a>
      {PAGES.map((p) => (
        <a
          href={href(p.path, route.params)}
          class={(p.path === section(route) ? 'active ' : '') + (p.coming ? 'coming' : '')}
          title={p.coming}
        >
          {p.title}
          {p.coming && <small> (soon)</small>}
        </a>
      ))}
      <TimeRange route={route} />
    </nav>
  );
}

function TimeRange({ route }: { route: Route }) {
  const from = route.params.get('from') ?? DEFAULT_FROM;
  const to = route.params.get('to') ?? DEFAULT_TO;
  const [custom, setCustom] = useState<{ from: string; to: string; error?: string } | null>(null);
  const set = (f: string, t: string) => {
    const n = new URLSearchParams(route.params);
    n.set('from', f);
    n.set('to', t);
    setParams(route.path, n, true);
  };
  const relative = to === 'now' && RANGES.includes(from);
  const apply = () => {
    const now = Date.now();
    try {
      const a = parseTime(custom!.from, now);
      const b = parseTime(custom!.to, now);
      if (a >= b) throw new Error('"from" must be before "to"');
      // Relative forms stay relative; dates become epoch milliseconds.
      const keep = (s: string, ms: number) => (/^now/.test(s.trim()) ? s.trim() : String(ms));
      set(keep(custom!.from, a), keep(custom!.to, b));
      setCustom(null);
    } catch (e: any) {
      setCustom({ ...custom!, error: e.message });
    }
  };
  // Zoom out: the same end, twice the span (relative ranges stay relative).
  const zoomOut = () => {
    const now = Date.now();
    try {
      const a = parseTime(from, now);
      const b = parseTime(to, now);
      const span = b - a;
      if (to === 'now') {
        const next = RANGES.find((r) => parseTime(r, now) <= now - 2 * span + 1000);
        set(next ?? `now-${Math.round((2 * span) / 1000)}s`, 'now');
      } else set(String(Math.round(a - span / 2)), String(Math.round(b + span / 2)));
    } catch {
      /* a bad range in the URL: the select still offers good ones */
    }
  };
  return (
    <span class="timerange">
      <button title="Zoom out (twice the range)" onClick={zoomOut}>
        −
      </button>
      <select
        aria-label="Time range"
        value={relative ? from : ''}
        onChange={(e) => {
          const v = (e.target as HTMLSelectElement).value;
          if (v === 'custom') setCustom({ from, to });
          else set(v, 'now');
        }}
      >
        {!relative && <option value="">{`${fmt(from)} to ${fmt(to)}`}</option>}
        {RANGES.map((r) => (
          <option value={r}>Last {r.slice(4)}</option>
        ))}
        <option value="custom">Custom range…</option>
      </select>
      {custom && (
        <span class="custom-range">
          <input aria-label="From" value={custom.from} onInput={(e) => setCustom({ ...custom, from: (e.target as HTMLInputElement).value })} />
          <input aria-label="To" value={custom.to} onInput={(e) => setCustom({ ...custom, to: (e.target as HTMLInputElement).value })} />
          <button class="primary" onClick={apply}>
            Apply
          </button>
          <button onClick={() => setCustom(null)}>Cancel</button>
          {custom.error && <span class="var-error">{custom.error}</span>}
        </span>
      )}
    </span>
  );
}

function fmt(t: string): string {
  return /^\d+$/.test(t) ? new Date(Number(t)).toISOString().slice(0, 19).replace('T', ' ') : t;
}

function Placeholder({ page }: { page: Page }) {
  return (
    <div class="placeholder">
      <h1>{page.title}</h1>
      <p>The {page.title.toLowerCase()} view is {page.coming}.</p>
    </div>
  );
}

/// The page a route belongs to: its first path segment. Alertmanager's
/// notification links (`#/alerts?receiver=...`, `#/silences/<id>`,
/// `#/silences/new?filter=...`) land on the Alerts page.
function section(route: Route): string {
  const s = route.path.split('/')[0];
  return s === 'silences' ? 'alerts' : s;
}

function App() {
  const route = useRoute();
  const page = PAGES.find((p) => p.path === section(route));
  return (
    <>
      <Nav route={route} />
      <main>
        {page?.view ? (
          <page.view route={route} />
        ) : page ? (
          <Placeholder page={page} />
        ) : (
          <div class="placeholder">
            <h1>Not found</h1>
            <p>
              No page <code>{route.path}</code>. <a href={href('explore', route.params)}>Explore</a>
            </p>
          </div>
        )}
      </main>
    </>
  );
}

// The public status page is its own path (`/status`, under any prefix),
// not a hash route, so it can be linked to and shown without the rest.
const isStatusPage = /\/status\/?$/.test(window.location.pathname);
render(isStatusPage ? <PublicStatusPage /> : <App />, document.getElementById('app')!);

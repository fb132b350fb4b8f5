// Sightline's web UI: the shell (navigation, the shared time range) and
// the pages. Routes live in the URL fragment, see route.ts; the link
// scheme between signals is in docs/web.md.
import { render } from 'preact';
import './style.css';
import { Explore } from './explore';
import { Route, href, setParams, useRoute } from './route';
import { DEFAULT_FROM, DEFAULT_TO, RANGES } from './time';

interface Page {
  path: string;
  title: string;
  /// Set for signals whose views arrive with a later issue.
  coming?: string;
  /// Served by the server-rendered pages until the UI has its own.
  external?: string;
}

const PAGES: Page[] = [
  { path: 'explore', title: 'Explore' },
  { path: 'dashboards', title: 'Dashboards' },
  { path: 'alerts', title: 'Alerts', external: 'alerts' },
  { path: 'slos', title: 'SLOs' },
  { path: 'uptime', title: 'Uptime' },
  { path: 'status', title: 'Status' },
  { path: 'logs', title: 'Logs', coming: 'coming with issue 15' },
  { path: 'traces', title: 'Traces', coming: 'coming with issue 16' },
];

function Nav({ route }: { route: Route }) {
  return (
    <nav class="nav">
      <a class="brand" href={href('explore', route.params)}>
        Sightline
      </a>
      {PAGES.map((p) => (
        <a
          href={p.external ?? href(p.path, route.params)}
          class={(p.path === route.path ? 'active ' : '') + (p.coming ? 'coming' : '')}
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
  const set = (f: string, t: string) => {
    const n = new URLSearchParams(route.params);
    n.set('from', f);
    n.set('to', t);
    setParams(route.path, n, true);
  };
  const relative = to === 'now' && RANGES.includes(from);
  return (
    <span class="timerange">
      <select
        aria-label="Time range"
        value={relative ? from : ''}
        onChange={(e) => set((e.target as HTMLSelectElement).value, 'now')}
      >
        {!relative && <option value="">{`${fmt(from)} to ${fmt(to)}`}</option>}
        {RANGES.map((r) => (
          <option value={r}>Last {r.slice(4)}</option>
        ))}
      </select>
    </span>
  );
}

function fmt(t: string): string {
  return /^\d+$/.test(t) ? new Date(Number(t)).toISOString().slice(0, 19).replace('T', ' ') : t;
}

function Placeholder({ page }: { page: Page }) {
  const links: Record<string, [string, string][]> = {
    dashboards: [],
    slos: [['SLOs (JSON)', 'api/v1/slos']],
    uptime: [['Probes (JSON)', 'api/v1/probes']],
    status: [
      ['Scrape targets (JSON)', 'api/v1/targets'],
      ['Rules (JSON)', 'api/v1/rules'],
      ['Build information (JSON)', 'api/v1/status/buildinfo'],
      ['Flags (JSON)', 'api/v1/status/flags'],
      ['Sightline’s own metrics', 'metrics'],
    ],
  };
  return (
    <div class="placeholder">
      <h1>{page.title}</h1>
      <p>{page.coming ? `The ${page.title.toLowerCase()} view is ${page.coming}.` : 'This page is not built yet.'}</p>
      {(links[page.path] ?? []).length > 0 && (
        <ul>
          {links[page.path].map(([t, u]) => (
            <li>
              <a href={u}>{t}</a>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function App() {
  const route = useRoute();
  const page = PAGES.find((p) => p.path === route.path);
  return (
    <>
      <Nav route={route} />
      <main>
        {route.path === 'explore' ? (
          <Explore route={route} />
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

render(<App />, document.getElementById('app')!);

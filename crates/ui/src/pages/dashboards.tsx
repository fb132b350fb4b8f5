// The Dashboards page: the list (stored and provisioned dashboards by
// folder, and a generated golden-signals dashboard per service), one
// dashboard (`#/dashboards/<uid>`), a new one, and import of Grafana JSON.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Route, href } from '../route';
import { fetchJSON } from '../api';
import { Dashboard, DashboardMeta } from '../dash/model';
import { DashboardView } from '../dash/view';
import { goldenDashboard, services } from '../dash/golden';
import { DATASOURCE } from '../dash/vars';

interface Hit {
  uid: string;
  title: string;
  tags?: string[];
  folderTitle?: string;
  folderUid?: string;
}

export function DashboardsPage({ route }: { route: Route }) {
  const [, sub, arg] = route.path.split('/');
  if (!sub) return <DashboardList route={route} />;
  if (sub === 'new') return <NewDashboard route={route} />;
  if (sub === 'import') return <Import route={route} />;
  if (sub === 'golden' && arg) return <Golden route={route} job={decodeURIComponent(arg)} />;
  return <Stored route={route} uid={decodeURIComponent(sub)} />;
}

function DashboardList({ route }: { route: Route }) {
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [svc, setSvc] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  useEffect(() => {
    fetchJSON<Hit[]>('api/search?type=dash-db')
      .then(setHits)
      .catch((e) => setError(e.error ?? String(e)));
    services().then(setSvc, () => setSvc([]));
  }, []);
  const f = filter.toLowerCase();
  const shown = (hits ?? []).filter((h) => !f || h.title.toLowerCase().includes(f) || h.tags?.some((t) => t.toLowerCase().includes(f)));
  const folders = new Map<string, Hit[]>();
  for (const h of shown) folders.set(h.folderTitle || 'General', [...(folders.get(h.folderTitle || 'General') ?? []), h]);
  return (
    <div class="dash-list">
      <div class="dash-head">
        <h1>Dashboards</h1>
        <input placeholder="Search by title or tag" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
        <span class="dash-actions">
          <a class="button primary" href={href('dashboards/new', route.params)}>
            New dashboard
          </a>
          <a class="button" href={href('dashboards/import', route.params)}>
            Import
          </a>
        </span>
      </div>
      {error && <div class="error">{error}</div>}
      {svc.length > 0 && (
        <section>
          <h2>Services</h2>
          <p class="hint">Golden signals of every job with <code>http_requests_total</code>, generated from the data.</p>
          <ul class="dash-items">
            {svc.map((j) => (
              <li>
                <a href={href(`dashboards/golden/${encodeURIComponent(j)}`, route.params)}>{j}: golden signals</a>
              </li>
            ))}
          </ul>
        </section>
      )}
      {[...folders.entries()].map(([folder, list]) => (
        <section>
          <h2>{folder}</h2>
          <ul class="dash-items">
            {list.map((h) => (
              <li>
                <a href={href(`dashboards/${encodeURIComponent(h.uid)}`, route.params)}>{h.title}</a>
                {h.tags?.map((t) => (
                  <span class="tag">{t}</span>
                ))}
              </li>
            ))}
          </ul>
        </section>
      ))}
      {hits && !hits.length && <p class="hint">No dashboards stored yet: create one, import Grafana JSON, or provision a folder (docs/web.md).</p>}
    </div>
  );
}

function Stored({ route, uid }: { route: Route; uid: string }) {
  const [got, setGot] = useState<{ dashboard: Dashboard; meta: DashboardMeta } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setGot(null);
    setError(null);
    fetchJSON<{ dashboard: Dashboard; meta: DashboardMeta }>(`api/dashboards/uid/${encodeURIComponent(uid)}`)
      .then(setGot)
      .catch((e) => setError(e.error ?? String(e)));
  }, [uid]);
  if (error) return <div class="error">Dashboard {uid}: {error}</div>;
  if (!got) return <p class="hint">Loading…</p>;
  return <DashboardView route={route} dash={got.dashboard} meta={got.meta} />;
}

/// The meta of a dashboard not stored yet. One object, not a `{}` per
/// render: DashboardView resets its model when `meta` changes, and a new
/// object each time the URL changed (the time range is written into it
/// right after the page opens) threw away a title typed meanwhile.
const UNSAVED: DashboardMeta = {};

function Golden({ route, job }: { route: Route; job: string }) {
  const [dash, setDash] = useState<Dashboard | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    goldenDashboard(job).then(setDash, (e) => setError(e.error ?? String(e)));
  }, [job]);
  if (error) return <div class="error">{error}</div>;
  if (!dash) return <p class="hint">Looking at {job}…</p>;
  return <DashboardView route={route} dash={dash} meta={UNSAVED} generated />;
}

function NewDashboard({ route }: { route: Route }) {
  const [dash] = useState<Dashboard>(() => ({ title: 'New dashboard', panels: [], templating: { list: [] }, time: { from: 'now-1h', to: 'now' }, schemaVersion: 41, tags: [] }));
  return <DashboardView route={route} dash={dash} meta={UNSAVED} startEditing />;
}

function Import({ route }: { route: Route }) {
  // Uncontrolled: a dashboard's JSON can be half a megabyte, too much to
  // re-render on every keystroke.
  const area = useRef<HTMLTextAreaElement>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setError(null);
    let dashboard: any;
    try {
      dashboard = JSON.parse(area.current!.value);
    } catch (e: any) {
      setError(`Not JSON: ${e.message}`);
      return;
    }
    // Grafana exports name their data sources as `__inputs`: each becomes
    // this server.
    const inputs = (dashboard.__inputs ?? []).map((i: any) => ({ name: i.name, type: i.type, pluginId: i.pluginId, value: DATASOURCE.uid }));
    try {
      const r = await fetchJSON<{ uid: string; dashboardUid?: string }>('api/dashboards/import', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ dashboard, overwrite: true, inputs, folderUid: '' }),
      });
      window.location.hash = href(`dashboards/${encodeURIComponent(r.dashboardUid ?? r.uid)}`, route.params);
    } catch (e: any) {
      setError(e.error ?? String(e));
    }
  };
  return (
    <div class="import">
      <h1>Import a Grafana dashboard</h1>
      <p class="hint">Paste the JSON Grafana exports (Share → Export, or a file from grafana.com), or pick a file.</p>
      <input
        type="file"
        accept=".json,application/json"
        onChange={async (e) => {
          const f = (e.target as HTMLInputElement).files?.[0];
          if (f) area.current!.value = await f.text();
        }}
      />
      <textarea id="import-json" rows={18} ref={area} placeholder="{ &quot;title&quot;: ..., &quot;panels&quot;: [...] }" />
      {error && <div class="error">{error}</div>}
      <button class="primary" id="import" onClick={run}>
        Import
      </button>
    </div>
  );
}

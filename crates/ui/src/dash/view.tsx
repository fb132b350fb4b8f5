// A dashboard on screen: its variables bar, its grid of panels, and edit
// mode (move and resize by dragging, add, duplicate, remove, edit a panel,
// save to the server, export as Grafana JSON).
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Route, setParams } from '../route';
import { fetchJSON, getJSON } from '../api';
import { parseTime } from '../time';
import { Dashboard, DashboardMeta, Panel } from './model';
import { ALL, Scope, VarState, resolveOptions, selectValues, urlVars, autoInterval, durationText, parseDuration, interpolate, datasourceKind, targetDatasource } from './vars';
import { layout, toggleRow, settle } from './layout';
import { PanelView } from './panel';
import { PanelEditor } from './editpanel';
import { DEFAULT_SCRAPE_MS } from './data';

let scrapeMsCache: Promise<number> | null = null;
/// The global scrape interval of the server's configuration: what
/// `$__rate_interval` builds on (Grafana reads it from the data source).
export function scrapeInterval(): Promise<number> {
  scrapeMsCache ??= getJSON<{ yaml: string }>('api/v1/status/config')
    .then((c) => {
      const m = /^global:\s*\n(?:[ \t]+.*\n)*?[ \t]+scrape_interval:\s*(\S+)/m.exec(c.yaml);
      return (m && parseDuration(m[1])) || DEFAULT_SCRAPE_MS;
    })
    .catch(() => DEFAULT_SCRAPE_MS);
  return scrapeMsCache;
}

const CELL = 30;
const GAP = 8;

interface Props {
  route: Route;
  dash: Dashboard;
  meta: DashboardMeta;
  /// Generated dashboards are not stored until saved as a copy.
  generated?: boolean;
  startEditing?: boolean;
}

export function DashboardView({ route, dash, meta, generated, startEditing }: Props) {
  const p = route.params;
  const [model, setModel] = useState<Dashboard>(dash);
  const [savedMeta, setSavedMeta] = useState<DashboardMeta>(meta);
  const [editing, setEditing] = useState(!!startEditing);
  const [dirty, setDirty] = useState(!!startEditing);
  const [editPanel, setEditPanel] = useState<number | null>(null);
  const [message, setMessage] = useState<{ error?: string; ok?: string; conflict?: boolean } | null>(null);
  const [vars, setVars] = useState<VarState[]>([]);
  const [scrapeMs, setScrapeMs] = useState(DEFAULT_SCRAPE_MS);
  const [tick, setTick] = useState(0);
  const grid = useRef<HTMLDivElement>(null);

  useEffect(() => {
    setModel(dash);
    setSavedMeta(meta);
  }, [dash, meta]);
  useEffect(() => {
    scrapeInterval().then(setScrapeMs);
  }, []);

  const from = p.get('from') ?? model.time?.from ?? 'now-6h';
  const to = p.get('to') ?? model.time?.to ?? 'now';
  const refresh = p.get('refresh') ?? model.refresh ?? '';
  // The dashboard's own range goes into the URL, so the time picker and
  // shared links show what the panels show.
  useEffect(() => {
    if (p.get('from') && p.get('to')) return;
    const n = new URLSearchParams(p);
    n.set('from', from);
    n.set('to', to);
    setParams(route.path, n);
  }, [from, to]);
  const [fromMs, toMs] = useMemo(() => {
    const now = Date.now();
    try {
      return [parseTime(from, now), parseTime(to, now)];
    } catch {
      return [now - 36e5, now];
    }
  }, [from, to, tick]);

  // Auto refresh, as the dashboard's `refresh` (or the URL's) says.
  useEffect(() => {
    const ms = refresh ? parseDuration(refresh) : null;
    if (!ms || ms < 1000) return;
    const t = setInterval(() => setTick((x) => x + 1), ms);
    return () => clearInterval(t);
  }, [refresh]);

  // Variables, in order: each may use the ones before it.
  const fromUrl = urlVars(p);
  const urlKey = [...fromUrl.entries()].map(([k, v]) => `${k}=${v.join('|')}`).join('&');
  const varDefs = model.templating?.list ?? [];
  useEffect(() => {
    let live = true;
    (async () => {
      const out: VarState[] = [];
      const scope: Scope = { vars: new Map(), builtins: builtins(fromMs, toMs, model) };
      for (const v of varDefs) {
        let st: VarState;
        try {
          const options = await resolveOptions(v, scope, fromMs, toMs);
          st = { v, options, selected: selectValues(v, options, fromUrl.get(v.name) ?? null) };
        } catch (e: any) {
          st = { v, options: [], selected: [], error: e?.error ?? String(e) };
        }
        if (v.type === 'interval' && v.auto) {
          scope.builtins[`__auto_interval_${v.name}`] = durationText(autoInterval(toMs - fromMs, v.auto_count ?? 30, parseDuration(v.auto_min ?? '10s') ?? 10000));
        }
        scope.vars.set(v.name, st);
        out.push(st);
      }
      if (live) setVars(out);
    })();
    return () => {
      live = false;
    };
  }, [urlKey, JSON.stringify(varDefs), from, to]);

  const scope: Scope = useMemo(() => {
    const s: Scope = { vars: new Map(vars.map((v) => [v.v.name, v])), builtins: builtins(fromMs, toMs, model) };
    for (const v of vars) {
      if (v.v.type === 'interval' && v.v.auto) {
        s.builtins[`__auto_interval_${v.v.name}`] = durationText(autoInterval(toMs - fromMs, v.v.auto_count ?? 30, parseDuration(v.v.auto_min ?? '10s') ?? 10000));
      }
    }
    return s;
  }, [vars, fromMs, toMs]);
  const scopeKey = vars.map((v) => `${v.v.name}=${v.selected.join('|')}`).join('&');
  const ready = vars.length === varDefs.length;

  const placed = useMemo(() => (ready ? layout(model.panels ?? [], scope) : []), [model, scope, ready]);
  const rows = placed.reduce((m, x) => Math.max(m, x.y + x.h), 0);

  const setVar = (name: string, values: string[]) => {
    const n = new URLSearchParams(p);
    n.delete(`var-${name}`);
    for (const v of values) n.append(`var-${name}`, v);
    setParams(route.path, n, true);
  };

  const change = (panels: Panel[]) => {
    setModel({ ...model, panels });
    setDirty(true);
  };

  // Zoom from a time series panel: the range becomes absolute.
  useEffect(() => {
    const g = grid.current;
    if (!g) return;
    const on = (e: Event) => {
      const { fromMs: a, toMs: b } = (e as CustomEvent).detail;
      const n = new URLSearchParams(p);
      n.set('from', String(a));
      n.set('to', String(b));
      setParams(route.path, n, true);
    };
    g.addEventListener('zoom', on);
    return () => g.removeEventListener('zoom', on);
  }, [route]);

  const grab = (index: number, e: PointerEvent, kind: 'move' | 'resize') => {
    const g = grid.current!;
    const colW = (g.clientWidth + GAP) / 24;
    const start = { x: e.clientX, y: e.clientY };
    const orig = { ...model.panels[index].gridPos };
    e.preventDefault();
    let last = orig;
    const move = (ev: PointerEvent) => {
      const dx = Math.round((ev.clientX - start.x) / colW);
      const dy = Math.round((ev.clientY - start.y) / (CELL + GAP));
      last =
        kind === 'move'
          ? { ...orig, x: Math.max(0, Math.min(24 - orig.w, orig.x + dx)), y: Math.max(0, orig.y + dy) }
          : { ...orig, w: Math.max(2, Math.min(24 - orig.x, orig.w + dx)), h: Math.max(2, orig.h + dy) };
      const el = g.querySelector<HTMLElement>(`[data-index="${index}"]`);
      if (el) {
        el.style.gridColumn = `${last.x + 1} / span ${last.w}`;
        el.style.gridRow = `${last.y + 1} / span ${last.h}`;
      }
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      if (last === orig) return;
      const moved = { ...model.panels[index], gridPos: last };
      const panels = model.panels.map((x, i) => (i === index ? moved : x));
      change(settle(panels, moved));
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };

  const menu = (index: number | null, panel: Panel, action: string) => {
    if (action === 'explore') {
      const t = panel.targets?.find((t) => t.expr);
      const expr = interpolate(t?.expr ?? '', scope, 'regex');
      if (datasourceKind(targetDatasource(panel.datasource, t?.datasource), scope) === 'loki') {
        window.location.hash = `#/logs?${new URLSearchParams({ query: expr, from, to })}`;
      } else {
        window.location.hash = `#/explore?${new URLSearchParams({ expr, from, to })}`;
      }
      return;
    }
    if (index == null) return;
    if (action === 'edit') setEditPanel(index);
    if (action === 'remove') change(model.panels.filter((_, i) => i !== index));
    if (action === 'duplicate') {
      const copy: Panel = JSON.parse(JSON.stringify(panel));
      copy.id = nextId(model.panels);
      copy.gridPos = { ...panel.gridPos, y: panel.gridPos.y + panel.gridPos.h };
      const panels = [...model.panels, copy];
      change(settle(panels, copy));
    }
  };

  const addPanel = () => {
    const y = (model.panels ?? []).reduce((m, x) => Math.max(m, x.gridPos.y + x.gridPos.h), 0);
    const panel: Panel = {
      id: nextId(model.panels ?? []),
      type: 'timeseries',
      title: 'New panel',
      gridPos: { x: 0, y, w: 12, h: 8 },
      targets: [{ refId: 'A', expr: '' }],
      fieldConfig: { defaults: {}, overrides: [] },
      options: {},
    };
    const panels = [...(model.panels ?? []), panel];
    setModel({ ...model, panels });
    setDirty(true);
    setEditPanel(panels.length - 1);
  };

  const save = async (overwrite = false) => {
    setMessage(null);
    try {
      const body = { dashboard: { ...model, version: savedMeta.version ?? model.version }, folderUid: savedMeta.folderUid ?? '', overwrite, message: '' };
      if (generated) {
        delete (body.dashboard as any).uid;
        body.dashboard.title = model.title;
      }
      const r = await fetchJSON<{ uid: string; version: number; url: string }>('api/dashboards/db', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      setModel({ ...model, uid: r.uid, version: r.version });
      setSavedMeta({ ...savedMeta, version: r.version });
      setDirty(false);
      setMessage({ ok: `Saved (version ${r.version})` });
      if (generated || model.uid !== r.uid) window.location.hash = `#/dashboards/${r.uid}`;
    } catch (e: any) {
      setMessage({ error: e.error ?? String(e), conflict: e.status === 412 });
    }
  };

  const exportJson = () => {
    const blob = new Blob([JSON.stringify(model, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${(model.title || 'dashboard').replace(/[^\w.-]+/g, '-')}.json`;
    a.click();
    URL.revokeObjectURL(a.href);
  };

  return (
    <div class="dashboard" data-uid={model.uid}>
      <div class="dash-head">
        {editing ? (
          <input class="dash-title-input" value={model.title} onInput={(e) => (setModel({ ...model, title: (e.target as HTMLInputElement).value }), setDirty(true))} />
        ) : (
          <h1 class="dash-title">{model.title}</h1>
        )}
        {savedMeta.provisioned && <span class="badge" title="Provisioned from a file">provisioned</span>}
        {generated && <span class="badge">generated</span>}
        <span class="dash-actions">
          <select aria-label="Refresh" value={refresh} onChange={(e) => {
            const n = new URLSearchParams(p);
            n.set('refresh', (e.target as HTMLSelectElement).value);
            setParams(route.path, n, false);
          }}>
            {['', '5s', '10s', '30s', '1m', '5m', '15m'].map((r) => (
              <option value={r}>{r ? `every ${r}` : 'no refresh'}</option>
            ))}
          </select>
          <button onClick={() => setTick((t) => t + 1)} title="Run every query again">Refresh</button>
          {editing && <button onClick={addPanel}>Add panel</button>}
          <button onClick={exportJson} title="Download as Grafana dashboard JSON">Export</button>
          {!editing ? (
            <button class="primary" onClick={() => setEditing(true)}>Edit</button>
          ) : (
            <>
              <button class="primary" id="save" disabled={!dirty && !generated} onClick={() => save(false)}>
                {generated ? 'Save as copy' : 'Save'}
              </button>
              <button onClick={() => (setEditing(false), setModel(dash), setDirty(false))}>Discard</button>
            </>
          )}
        </span>
      </div>
      {message?.error && (
        <div class="error">
          {message.error}
          {message.conflict && <button onClick={() => save(true)}>Overwrite</button>}
        </div>
      )}
      {message?.ok && <div class="saved">{message.ok}</div>}
      <VariablesBar vars={vars} onChange={setVar} />
      <div class="grid" ref={grid} style={{ gridTemplateRows: `repeat(${Math.max(rows, 1)}, ${CELL}px)` }}>
        {placed.map((x) =>
          x.panel.type === 'row' ? (
            <div
              key={x.key}
              class="row-head"
              data-index={x.index ?? undefined}
              style={{ gridColumn: `1 / span 24`, gridRow: `${x.y + 1} / span 1` }}
              onClick={() => x.index != null && change(toggleRow(model.panels, x.index))}
            >
              <span class="caret">{x.panel.collapsed ? '▸' : '▾'}</span> {x.panel.title}
              {x.panel.collapsed && <small> ({x.panel.panels?.length ?? 0} panels)</small>}
            </div>
          ) : (
            <div key={x.key} class="cell" data-index={x.index ?? undefined} style={{ gridColumn: `${x.x + 1} / span ${x.w}`, gridRow: `${x.y + 1} / span ${x.h}` }}>
              <PanelView
                panel={x.panel}
                scope={x.scope}
                scopeKey={scopeKey}
                fromMs={fromMs}
                toMs={toMs}
                tick={tick}
                scrapeMs={scrapeMs}
                editing={editing && x.index != null}
                onMenu={(a) => menu(x.index, x.panel, a)}
                onGrab={(e, kind) => x.index != null && grab(x.index, e, kind)}
              />
            </div>
          ),
        )}
      </div>
      {!placed.length && ready && <p class="hint">This dashboard has no panels yet. {editing ? 'Add one.' : 'Edit it to add one.'}</p>}
      {editPanel != null && model.panels[editPanel] && (
        <PanelEditor
          panel={model.panels[editPanel]}
          scope={scope}
          fromMs={fromMs}
          toMs={toMs}
          scrapeMs={scrapeMs}
          onApply={(np) => {
            change(model.panels.map((x, i) => (i === editPanel ? np : x)));
            setEditPanel(null);
          }}
          onCancel={() => setEditPanel(null)}
        />
      )}
    </div>
  );
}

function nextId(panels: Panel[]): number {
  let m = 0;
  const walk = (ps: Panel[]) => ps.forEach((x) => ((m = Math.max(m, x.id ?? 0)), walk(x.panels ?? [])));
  walk(panels);
  return m + 1;
}

function builtins(fromMs: number, toMs: number, d: Dashboard): Record<string, string> {
  const range = toMs - fromMs;
  return {
    __range: durationText(range),
    __range_s: String(Math.round(range / 1000)),
    __range_ms: String(Math.round(range)),
    __from: String(Math.round(fromMs)),
    __to: String(Math.round(toMs)),
    __dashboard: d.title,
  };
}

function VariablesBar({ vars, onChange }: { vars: VarState[]; onChange: (name: string, values: string[]) => void }) {
  const shown = vars.filter((v) => (v.v.hide ?? 0) < 2);
  if (!shown.length) return null;
  return (
    <div class="vars">
      {shown.map((st) => {
        const label = st.v.hide === 1 ? null : <label for={`var-${st.v.name}`}>{st.v.label || st.v.name}</label>;
        if (st.v.type === 'textbox') {
          return (
            <span class="var">
              {label}
              <input id={`var-${st.v.name}`} value={st.selected[0] ?? ''} onChange={(e) => onChange(st.v.name, [(e.target as HTMLInputElement).value])} />
            </span>
          );
        }
        if (st.v.type === 'constant') return null;
        const opts = [...(st.v.includeAll ? [{ text: 'All', value: ALL }] : []), ...st.options];
        return (
          <span class="var" title={st.error}>
            {label}
            <select
              id={`var-${st.v.name}`}
              multiple={!!st.v.multi}
              size={st.v.multi ? Math.min(4, opts.length) : undefined}
              class={st.error ? 'bad' : ''}
              onChange={(e) => onChange(st.v.name, [...(e.target as HTMLSelectElement).selectedOptions].map((o) => o.value))}
            >
              {opts.map((o) => (
                <option value={o.value} selected={st.selected.includes(o.value)}>
                  {o.text}
                </option>
              ))}
            </select>
            {st.error && <span class="var-error">{st.error}</span>}
          </span>
        );
      })}
    </div>
  );
}

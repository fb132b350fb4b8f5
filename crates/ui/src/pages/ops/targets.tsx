// Targets, as Prometheus's /targets: by scrape pool, each target's
// endpoint, health, labels, last scrape, its duration and last error;
// filtered by health and text (kept in the URL), pools collapsible.
import { useState } from 'preact/hooks';
import { LabelChips, Pending, ago, duration, useJson, utc } from '../../components/data';
import { Route, setParams } from '../../route';

export interface Target {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl?: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
  scrapeInterval?: string;
  scrapeTimeout?: string;
}

export interface TargetsData {
  activeTargets: Target[];
  droppedTargets: { discoveredLabels: Record<string, string>; scrapePool?: string }[];
  droppedTargetCounts?: Record<string, number>;
}

const HEALTH = ['up', 'down', 'unknown'] as const;

/// Targets grouped by pool, pools in name order.
export function byPool<T extends { scrapePool?: string; discoveredLabels?: Record<string, string> }>(ts: T[]): [string, T[]][] {
  const m = new Map<string, T[]>();
  for (const t of ts) {
    const pool = t.scrapePool ?? t.discoveredLabels?.job ?? '';
    if (!m.has(pool)) m.set(pool, []);
    m.get(pool)!.push(t);
  }
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function Targets({ route }: { route: Route }) {
  const p = route.params;
  const targets = useJson<TargetsData>('api/v1/targets?state=active');
  const hidden = new Set((p.get('hide') ?? '').split(',').filter(Boolean));
  const text = (p.get('search') ?? '').toLowerCase();
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const set = (k: string, v: string) => {
    const n = new URLSearchParams(p);
    if (v) n.set(k, v);
    else n.delete(k);
    setParams(route.path, n);
  };
  if (!targets.data) return <Pending l={targets} />;
  const matches = (t: Target) =>
    !hidden.has(t.health) &&
    (!text ||
      t.scrapeUrl.toLowerCase().includes(text) ||
      Object.entries(t.labels).some(([k, v]) => `${k}="${v}"`.toLowerCase().includes(text)) ||
      t.lastError.toLowerCase().includes(text));
  const pools = byPool(targets.data.activeTargets);
  const toggle = (pool: string) => {
    const c = new Set(collapsed);
    if (c.has(pool)) c.delete(pool);
    else c.add(pool);
    setCollapsed(c);
  };
  return (
    <div class="targets">
      <div class="filter-bar">
        {HEALTH.map((h) => (
          <label class={`check health-${h}`}>
            <input
              type="checkbox"
              name={h}
              checked={!hidden.has(h)}
              onChange={(e) => {
                const s = new Set(hidden);
                if ((e.target as HTMLInputElement).checked) s.delete(h);
                else s.add(h);
                set('hide', [...s].join(','));
              }}
            />
            {h} ({targets.data!.activeTargets.filter((t) => t.health === h).length})
          </label>
        ))}
        <input
          aria-label="Search targets"
          placeholder="Filter by endpoint, label or error"
          value={p.get('search') ?? ''}
          onInput={(e) => set('search', (e.target as HTMLInputElement).value)}
        />
        <button type="button" onClick={() => setCollapsed(collapsed.size ? new Set() : new Set(pools.map(([k]) => k)))}>
          {collapsed.size ? 'Expand all' : 'Collapse all'}
        </button>
        <button type="button" onClick={targets.reload}>
          Refresh
        </button>
      </div>
      {pools.length === 0 && <p class="hint">No scrape targets are configured.</p>}
      {pools.map(([pool, ts]) => {
        const shown = ts.filter(matches);
        const up = ts.filter((t) => t.health === 'up').length;
        if (!shown.length && (hidden.size || text)) return null;
        return (
          <section class="pool" data-pool={pool}>
            <header onClick={() => toggle(pool)}>
              <span class="caret">{collapsed.has(pool) ? '▸' : '▾'}</span> <b>{pool}</b>{' '}
              <span class={up === ts.length ? 'hint' : 'bad'}>
                ({up}/{ts.length} up)
              </span>
            </header>
            {!collapsed.has(pool) && (
              <table class="result target-table">
                <thead>
                  <tr>
                    <th>Endpoint</th>
                    <th>State</th>
                    <th>Labels</th>
                    <th>Last scrape</th>
                    <th>Duration</th>
                    <th>Error</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((t) => (
                    <tr class={`target health-${t.health}`} data-url={t.scrapeUrl}>
                      <td>
                        <a href={t.globalUrl || t.scrapeUrl} target="_blank" rel="noopener noreferrer">
                          {t.scrapeUrl}
                        </a>
                      </td>
                      <td>
                        <span class={`badge ${t.health}`}>{t.health}</span>
                      </td>
                      <td>
                        <LabelChips labels={t.labels} />
                      </td>
                      <td title={utc(t.lastScrape)}>{ago(t.lastScrape)}</td>
                      <td>{duration(t.lastScrapeDuration)}</td>
                      <td class="last-error">{t.lastError}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        );
      })}
    </div>
  );
}

// Rules as Prometheus's /alerts and /rules pages show them, from
// /api/v1/rules: per group, alerting rules with their state and active
// alerts (filterable by state), recording rules, each with its expression
// in Explore, last evaluation, its duration and error.
import { LabelChips, Pending, ago, duration, exploreHref, useJson, utc } from '../../components/data';
import { Route, setParams } from '../../route';
import { Linked } from './alert';

interface RuleAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt?: string;
  value: string;
}

interface Rule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  duration?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  alerts?: RuleAlert[];
  state?: 'inactive' | 'pending' | 'firing';
  health: string;
  lastError?: string;
  lastEvaluation: string;
  evaluationTime: number;
}

interface Group {
  name: string;
  file: string;
  interval: number;
  rules: Rule[];
  lastEvaluation: string;
  evaluationTime: number;
}

const STATES = ['inactive', 'pending', 'firing'] as const;

export function RulesView({ route }: { route: Route }) {
  const p = route.params;
  const rules = useJson<{ groups: Group[] }>('api/v1/rules');
  const hidden = new Set((p.get('hide') ?? '').split(',').filter(Boolean));
  const text = (p.get('search') ?? '').toLowerCase();
  const set = (k: string, v: string) => {
    const n = new URLSearchParams(p);
    if (v) n.set(k, v);
    else n.delete(k);
    setParams(route.path, n);
  };
  if (!rules.data) return <Pending l={rules} />;
  const all = rules.data.groups.flatMap((g) => g.rules);
  const count = (s: string) => all.filter((r) => r.type === 'alerting' && r.state === s).length;
  const shown = (r: Rule) =>
    (r.type === 'recording' ? !hidden.has('recording') : !hidden.has(r.state ?? 'inactive')) &&
    (!text || r.name.toLowerCase().includes(text) || r.query.toLowerCase().includes(text));
  return (
    <div class="rules">
      <div class="filter-bar">
        {[...STATES, 'recording'].map((s) => (
          <label class={`check state-${s}`}>
            <input
              type="checkbox"
              name={s}
              checked={!hidden.has(s)}
              onChange={(e) => {
                const h = new Set(hidden);
                if ((e.target as HTMLInputElement).checked) h.delete(s);
                else h.add(s);
                set('hide', [...h].join(','));
              }}
            />
            {s} ({s === 'recording' ? all.filter((r) => r.type === 'recording').length : count(s)})
          </label>
        ))}
        <input
          aria-label="Search rules"
          placeholder="Filter by name or expression"
          value={p.get('search') ?? ''}
          onInput={(e) => set('search', (e.target as HTMLInputElement).value)}
        />
        <button type="button" onClick={rules.reload}>
          Refresh
        </button>
      </div>
      {rules.data.groups.length === 0 && <p class="hint">No rule groups are loaded.</p>}
      {rules.data.groups.map((g) => (
        <section class="rule-group" data-group={g.name}>
          <header>
            <b>{g.name}</b> <span class="hint">{g.file}</span>
            <span class="hint right" title={utc(g.lastEvaluation)}>
              every {duration(g.interval)} · evaluated {ago(g.lastEvaluation)} in {duration(g.evaluationTime)}
            </span>
          </header>
          {g.rules.filter(shown).map((r) => (
            <RuleRow r={r} />
          ))}
        </section>
      ))}
    </div>
  );
}

function RuleRow({ r }: { r: Rule }) {
  const state = r.type === 'alerting' ? (r.state ?? 'inactive') : 'recording';
  return (
    <details class={`rule state-${state}`} data-rule={r.name} open={state === 'firing' || state === 'pending' || !!r.lastError}>
      <summary>
        <span class={`badge ${state}`}>{state}</span>
        <b class="rule-name">{r.name}</b>
        {r.type === 'alerting' && (r.alerts?.length ?? 0) > 0 && <span class="hint"> ({r.alerts!.length} active)</span>}
        <span class={`health ${r.health}`}>{r.health}</span>
        <span class="hint right" title={utc(r.lastEvaluation)}>
          {ago(r.lastEvaluation)} · {duration(r.evaluationTime)}
        </span>
      </summary>
      <div class="rule-body">
        <div>
          <code class="expr">
            <a href={exploreHref(r.query)}>{r.query}</a>
          </code>
        </div>
        {r.type === 'alerting' && (r.duration ?? 0) > 0 && <div class="hint">for {duration(r.duration!)}</div>}
        {r.labels && Object.keys(r.labels).length > 0 && (
          <div>
            labels: <LabelChips labels={r.labels} />
          </div>
        )}
        {r.annotations && Object.keys(r.annotations).length > 0 && (
          <dl class="annotations">
            {Object.keys(r.annotations)
              .sort()
              .map((k) => (
                <>
                  <dt>{k}</dt>
                  <dd>
                    <Linked text={r.annotations![k]} />
                  </dd>
                </>
              ))}
          </dl>
        )}
        {r.lastError && <div class="error">{r.lastError}</div>}
        {r.alerts && r.alerts.length > 0 && (
          <table class="result rule-alerts">
            <thead>
              <tr>
                <th>Labels</th>
                <th>State</th>
                <th>Active since</th>
                <th>Value</th>
              </tr>
            </thead>
            <tbody>
              {r.alerts.map((a) => (
                <tr>
                  <td>
                    <LabelChips labels={a.labels} />
                  </td>
                  <td>
                    <span class={`badge ${a.state}`}>{a.state}</span>
                  </td>
                  <td title={utc(a.activeAt)}>{ago(a.activeAt)}</td>
                  <td>{a.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </details>
  );
}

// Active alerts as Alertmanager's UI shows them: grouped by the route's
// group labels, per receiver, with its URL filters (`filter`, `receiver`,
// `silenced`, `inhibited`, `active`) passed to /api/v2/alerts/groups.
import { useEffect, useState } from 'preact/hooks';
import { LabelChips, Pending, useJson } from '../../components/data';
import { Route, setParams } from '../../route';
import { AlertCard } from './alert';
import { filterParams, parseMatchers } from './matchers';
import { Alert, AlertGroup } from './types';

const FLAGS = ['silenced', 'inhibited', 'active'] as const;

export function AlertGroups({ route }: { route: Route }) {
  const p = route.params;
  const filter = p.get('filter') ?? '';
  const receiver = p.get('receiver') ?? '';
  const [draft, setDraft] = useState(filter);
  useEffect(() => setDraft(filter), [filter]);

  let bad: string | undefined;
  const q = new URLSearchParams();
  try {
    filterParams(parseMatchers(filter), q);
  } catch (e: any) {
    bad = e.message;
  }
  if (receiver) q.set('receiver', receiver);
  for (const f of FLAGS) {
    const v = p.get(f);
    if (v !== null) q.set(f, v);
  }
  const groups = useJson<AlertGroup[]>(bad ? null : `api/v2/alerts/groups?${q}`);
  const receivers = useJson<{ name: string }[]>('api/v2/receivers');

  const set = (k: string, v: string | null) => {
    const n = new URLSearchParams(p);
    if (v === null || v === '') n.delete(k);
    else n.set(k, v);
    setParams(route.path, n, true);
  };
  const byFp = new Map<string, Alert>();
  for (const g of groups.data ?? []) for (const a of g.alerts) byFp.set(a.fingerprint, a);

  return (
    <div class="alert-groups">
      <form
        class="filter-bar"
        onSubmit={(e) => {
          e.preventDefault();
          set('filter', draft.trim());
        }}
      >
        <input
          class="matchers"
          aria-label="Filter"
          placeholder='{alertname="TargetDown", severity=~"page|ticket"}'
          value={draft}
          onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
        />
        <select aria-label="Receiver" value={receiver} onChange={(e) => set('receiver', (e.target as HTMLSelectElement).value)}>
          <option value="">All receivers</option>
          {(receivers.data ?? []).map((r) => (
            <option value={r.name}>{r.name}</option>
          ))}
        </select>
        {FLAGS.map((f) => (
          <label class="check">
            <input
              type="checkbox"
              name={f}
              checked={p.get(f) !== 'false'}
              onChange={(e) => set(f, (e.target as HTMLInputElement).checked ? null : 'false')}
            />
            {f}
          </label>
        ))}
        <button class="primary" type="submit">
          Filter
        </button>
        <button type="button" onClick={groups.reload}>
          Refresh
        </button>
      </form>
      {bad && <div class="error">{bad}</div>}
      {!bad && !groups.data && <Pending l={groups} />}
      {groups.error && groups.data && <div class="error">{groups.error}</div>}
      {groups.data && groups.data.length === 0 && <p class="hint">No alerts match.</p>}
      {groups.data?.map((g) => (
        <section class="alert-group" data-receiver={g.receiver.name} data-labels={JSON.stringify(g.labels)}>
          <header>
            <LabelChips labels={g.labels} />
            <span class="hint">
              {' '}
              receiver <b>{g.receiver.name}</b> · {g.alerts.length} alert{g.alerts.length === 1 ? '' : 's'}
            </span>
          </header>
          {g.alerts.map((a) => (
            <AlertCard a={a} hide={Object.keys(g.labels)} byFingerprint={byFp} />
          ))}
        </section>
      ))}
    </div>
  );
}

// The notification history (/api/v1/notifications, see
// docs/alertmanager.md): every attempt to notify a receiver, newest
// first, filterable by receiver and alert name.
import { LabelChips, Pending, ago, duration, useJson, utc } from '../../components/data';
import { Route, setParams } from '../../route';

interface Attempt {
  time: string;
  receiver: string;
  integration: string;
  integrationIndex: number;
  groupKey: string;
  alerts: { fingerprint: string; labels: Record<string, string>; status: string }[];
  outcome: string;
  error?: string;
  attempt: number;
  durationSeconds: number;
}

export function Notifications({ route }: { route: Route }) {
  const p = route.params;
  const q = new URLSearchParams();
  for (const k of ['receiver', 'alertname']) {
    const v = p.get(k);
    if (v) q.set(k, v);
  }
  q.set('limit', p.get('limit') ?? '200');
  const hist = useJson<Attempt[]>(`api/v1/notifications?${q}`);
  const receivers = useJson<{ name: string }[]>('api/v2/receivers');
  const set = (k: string, v: string) => {
    const n = new URLSearchParams(p);
    if (v) n.set(k, v);
    else n.delete(k);
    setParams(route.path, n, true);
  };
  return (
    <div class="notifications">
      <div class="filter-bar">
        <select aria-label="Receiver" value={p.get('receiver') ?? ''} onChange={(e) => set('receiver', (e.target as HTMLSelectElement).value)}>
          <option value="">All receivers</option>
          {(receivers.data ?? []).map((r) => (
            <option value={r.name}>{r.name}</option>
          ))}
        </select>
        <input
          aria-label="Alert name"
          placeholder="alertname"
          value={p.get('alertname') ?? ''}
          onChange={(e) => set('alertname', (e.target as HTMLInputElement).value.trim())}
        />
        <button type="button" onClick={hist.reload}>
          Refresh
        </button>
      </div>
      {!hist.data && <Pending l={hist} />}
      {hist.data && hist.data.length === 0 && <p class="hint">No notifications were sent.</p>}
      {hist.data && hist.data.length > 0 && (
        <table class="result notification-log">
          <thead>
            <tr>
              <th>Time</th>
              <th>Receiver</th>
              <th>Outcome</th>
              <th>Alerts</th>
              <th>Group</th>
            </tr>
          </thead>
          <tbody>
            {hist.data.map((a) => (
              <tr class={`outcome-${a.outcome}`}>
                <td title={utc(a.time)}>
                  {ago(a.time)}
                  <div class="hint">took {duration(a.durationSeconds)}</div>
                </td>
                <td>
                  {a.receiver}
                  <div class="hint">
                    {a.integration}[{a.integrationIndex}]{a.attempt > 1 ? `, attempt ${a.attempt}` : ''}
                  </div>
                </td>
                <td>
                  <span class={`badge ${a.outcome}`}>{a.outcome}</span>
                  {a.error && <div class="error small">{a.error}</div>}
                </td>
                <td>
                  {a.alerts.map((x) => (
                    <div>
                      <span class={`badge ${x.status}`}>{x.status}</span> <LabelChips labels={x.labels} />
                    </div>
                  ))}
                </td>
                <td>
                  <code class="small">{a.groupKey}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

// Inhibitions: the configured inhibit rules (/api/v1/inhibit_rules, the
// running Alertmanager config's) and the alerts they mute right now, each
// with the alerts that inhibit it (status.inhibitedBy fingerprints).
import { Pending, useJson } from '../../components/data';
import { AlertCard } from './alert';
import { Alert } from './types';

interface InhibitRule {
  sourceMatchers: string[];
  targetMatchers: string[];
  equal: string[];
}

export function Inhibitions() {
  const rules = useJson<InhibitRule[]>('api/v1/inhibit_rules');
  const alerts = useJson<Alert[]>('api/v2/alerts');
  const byFp = new Map<string, Alert>();
  for (const a of alerts.data ?? []) byFp.set(a.fingerprint, a);
  const inhibited = (alerts.data ?? []).filter((a) => a.status?.inhibitedBy?.length);
  return (
    <div class="inhibitions">
      <h3>Inhibit rules</h3>
      {!rules.data && <Pending l={rules} />}
      {rules.data && rules.data.length === 0 && <p class="hint">The Alertmanager config has no inhibit_rules.</p>}
      {rules.data && rules.data.length > 0 && (
        <table class="result inhibit-rules">
          <thead>
            <tr>
              <th>When an alert matches (source)</th>
              <th>it mutes alerts matching (target)</th>
              <th>with equal labels</th>
            </tr>
          </thead>
          <tbody>
            {rules.data.map((r) => (
              <tr class="inhibit-rule">
                <td>
                  <code>{r.sourceMatchers.join(', ')}</code>
                </td>
                <td>
                  <code>{r.targetMatchers.join(', ')}</code>
                </td>
                <td>
                  <code>{r.equal.join(', ') || '(none)'}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Inhibited alerts {alerts.data && <span class="hint">({inhibited.length})</span>}</h3>
      {!alerts.data && <Pending l={alerts} />}
      {alerts.data && inhibited.length === 0 && <p class="hint">No alert is inhibited now.</p>}
      {inhibited.map((a) => (
        <div class="inhibited">
          <AlertCard a={a} byFingerprint={byFp} />
        </div>
      ))}
    </div>
  );
}

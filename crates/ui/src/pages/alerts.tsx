// The Alerts page: Alertmanager's UI (alert groups, silences) and
// Prometheus's alerting views (rules with their state) in one place, plus
// the notification history and inhibitions. Routes:
//
//   #/alerts?filter={..}&receiver=..&silenced=..&inhibited=..  alert groups
//   #/alerts/rules                                            rules and their alerts
//   #/silences, #/silences/<id>, #/silences/<id>/edit,
//   #/silences/new?filter={..}                                silences
//   #/alerts/notifications, #/alerts/inhibitions
//
// The `silences` ones are Alertmanager's own fragment links, so links in
// notifications land here unchanged.
import { SubNav } from '../components/data';
import { Route, href } from '../route';
import { AlertGroups } from './alerts/groups';
import { Inhibitions } from './alerts/inhibitions';
import { Notifications } from './alerts/notifications';
import { RulesView } from './alerts/rules';
import { Silences } from './alerts/silences';

export function AlertsPage({ route }: { route: Route }) {
  const parts = route.path.split('/');
  const tab = parts[0] === 'silences' ? 'silences' : (parts[1] ?? 'groups');
  const items: [string, string, string][] = [
    ['groups', 'Alerts', href('alerts', route.params)],
    ['rules', 'Rules', href('alerts/rules', route.params)],
    ['silences', 'Silences', href('silences', route.params)],
    ['notifications', 'Notifications', href('alerts/notifications', route.params)],
    ['inhibitions', 'Inhibitions', href('alerts/inhibitions', route.params)],
  ];
  return (
    <div class="alerts-page">
      <SubNav items={items} current={tab} />
      {tab === 'groups' && <AlertGroups route={route} />}
      {tab === 'rules' && <RulesView route={route} />}
      {tab === 'silences' && <Silences route={route} rest={parts.slice(1)} />}
      {tab === 'notifications' && <Notifications route={route} />}
      {tab === 'inhibitions' && <Inhibitions />}
      {!['groups', 'rules', 'silences', 'notifications', 'inhibitions'].includes(tab) && (
        <div class="placeholder">
          <p>
            No view <code>{route.path}</code>. <a href={href('alerts', route.params)}>Alerts</a>
          </p>
        </div>
      )}
    </div>
  );
}

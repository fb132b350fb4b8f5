// The Operations pages, as Prometheus's Status menu: targets, service
// discovery, configuration, flags, rules, runtime and build information,
// TSDB status. Routes: #/ops/<sub> (default targets).
import { SubNav } from '../components/data';
import { Route, href } from '../route';
import { RulesView } from './alerts/rules';
import { ConfigView, FlagsView, RuntimeView } from './ops/status';
import { ServiceDiscovery } from './ops/sd';
import { Targets } from './ops/targets';
import { TsdbView } from './ops/tsdb';

const SUBS: [string, string][] = [
  ['targets', 'Targets'],
  ['sd', 'Service discovery'],
  ['rules', 'Rules'],
  ['config', 'Configuration'],
  ['flags', 'Flags'],
  ['runtime', 'Runtime & build'],
  ['tsdb', 'TSDB status'],
];

export function OperationsPage({ route }: { route: Route }) {
  const sub = route.path.split('/')[1] || 'targets';
  const items = SUBS.map(([k, t]) => [k, t, href(`ops/${k}`, route.params)] as [string, string, string]);
  return (
    <div class="ops-page">
      <SubNav items={items} current={sub} />
      {sub === 'targets' && <Targets route={route} />}
      {sub === 'sd' && <ServiceDiscovery route={route} />}
      {sub === 'rules' && <RulesView route={route} />}
      {sub === 'config' && <ConfigView />}
      {sub === 'flags' && <FlagsView route={route} />}
      {sub === 'runtime' && <RuntimeView />}
      {sub === 'tsdb' && <TsdbView />}
      {!SUBS.some(([k]) => k === sub) && (
        <div class="placeholder">
          <p>
            No view <code>{route.path}</code>. <a href={href('ops/targets', route.params)}>Targets</a>
          </p>
        </div>
      )}
    </div>
  );
}

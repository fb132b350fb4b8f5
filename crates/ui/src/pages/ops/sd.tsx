// Service discovery, as Prometheus's /service-discovery: per scrape pool,
// each discovered target's labels before relabelling beside the target's
// labels after it, and the targets relabelling dropped.
import { LabelChips, Pending, useJson } from '../../components/data';
import { Route } from '../../route';
import { TargetsData, byPool } from './targets';

export function ServiceDiscovery({ route }: { route: Route }) {
  void route;
  const t = useJson<TargetsData>('api/v1/targets?state=any');
  if (!t.data) return <Pending l={t} />;
  const active = byPool(t.data.activeTargets);
  const dropped = byPool(t.data.droppedTargets);
  const pools = [...new Set([...active.map(([k]) => k), ...dropped.map(([k]) => k)])].sort();
  const counts = t.data.droppedTargetCounts ?? {};
  return (
    <div class="sd">
      <ul class="pool-index">
        {pools.map((pool) => {
          const a = active.find(([k]) => k === pool)?.[1].length ?? 0;
          const d = counts[pool] ?? dropped.find(([k]) => k === pool)?.[1].length ?? 0;
          return (
            <li>
              <a href={`#sd-${pool}`} onClick={(e) => (e.preventDefault(), document.getElementById(`sd-${pool}`)?.scrollIntoView())}>
                {pool}
              </a>{' '}
              <span class="hint">
                ({a} active / {a + d} discovered)
              </span>
            </li>
          );
        })}
      </ul>
      {pools.map((pool) => (
        <section class="pool" id={`sd-${pool}`} data-pool={pool}>
          <header>
            <b>{pool}</b>
          </header>
          <table class="result sd-table">
            <thead>
              <tr>
                <th>Discovered labels</th>
                <th>Target labels</th>
              </tr>
            </thead>
            <tbody>
              {(active.find(([k]) => k === pool)?.[1] ?? []).map((x) => (
                <tr class="sd-active">
                  <td>
                    <LabelChips labels={x.discoveredLabels} />
                  </td>
                  <td>
                    <LabelChips labels={x.labels} />
                  </td>
                </tr>
              ))}
              {(dropped.find(([k]) => k === pool)?.[1] ?? []).map((x) => (
                <tr class="sd-dropped">
                  <td>
                    <LabelChips labels={x.discoveredLabels} />
                  </td>
                  <td class="hint">Dropped</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}

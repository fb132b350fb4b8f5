// The public status page served at `/status` (outside the hash routes, with
// no navigation): a read-only view for a service's users, as Uptime Kuma's
// and Statuspage's. It reads only the uptime data (`/api/v1/uptime` and
// `probe_success` for the 90 daily bars) and links nowhere into the admin
// UI. Every monitor is public for now (docs/web.md).
import { Monitor, UptimeBars, duration, pct, useBars, useUptime, when } from '../components/uptime';

/// The banner: all up, some down, or all down.
function overall(data: Monitor[]): { cls: string; text: string } {
  const down = data.filter((m) => !m.up).length;
  if (!data.length) return { cls: 'none', text: 'No services are monitored yet' };
  if (!down) return { cls: 'ok', text: 'All systems operational' };
  if (down === data.length) return { cls: 'bad', text: 'Major outage' };
  return { cls: 'partial', text: `Partial outage: ${down} of ${data.length} services down` };
}

export function PublicStatusPage() {
  const { data, error } = useUptime(60);
  const { bars } = useBars('90d');
  return (
    <div class="statuspage">
      <header>
        <h1>Service status</h1>
      </header>
      {error && <div class="error">Status unavailable: {error}</div>}
      {!data && !error && <p class="hint">Loading…</p>}
      {data && <Body data={data} bars={bars} />}
      <footer class="hint">Updated {new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · uptime over 90 days</footer>
    </div>
  );
}

function Body({ data, bars }: { data: Monitor[]; bars?: ReturnType<typeof useBars>['bars'] }) {
  const banner = overall(data);
  const current = data.flatMap((m) => m.outages.filter((o) => !o.end).map((o) => ({ ...o, monitor: m.monitor })));
  return (
    <>
      <div class={'banner ' + banner.cls}>{banner.text}</div>
      {current.length > 0 && (
        <section class="current">
          <h2>Current outages</h2>
          {current.map((o) => (
            <div class="outage">
              <strong>{o.monitor}</strong> down since {when(o.start)} ({duration(Date.now() - Date.parse(o.start))}):{' '}
              <span class="cause">{o.cause}</span>
            </div>
          ))}
        </section>
      )}
      <section class="services">
        {data.map((m) => (
          <div class="service" data-monitor={m.monitor}>
            <div class="service-head">
              <span class={'dot ' + (m.up ? 'ok' : 'bad')} />
              <strong>{m.monitor}</strong>
              <span class={'state ' + (m.up ? 'ok' : 'bad')}>{m.up ? 'Operational' : 'Down'}</span>
              <span class="ratio">{pct(m.uptime['90d'])}</span>
            </div>
            <UptimeBars bars={bars?.get(`${m.monitor}/${m.target}`)} span="90d" />
            <div class="scale hint">
              <span>90 days ago</span>
              <span>today</span>
            </div>
          </div>
        ))}
      </section>
    </>
  );
}

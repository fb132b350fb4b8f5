// The Dashboards page. Not built yet: a placeholder until it is.
import { Route } from '../route';

export function DashboardsPage({ route }: { route: Route }) {
  void route;
  return (
    <div class="placeholder">
      <h1>Dashboards</h1>
      <p>This page is not built yet.</p>
    </div>
  );
}

// The Alerts page. Not built yet: a placeholder until it is.
import { Route } from '../route';

export function AlertsPage({ route }: { route: Route }) {
  void route;
  return (
    <div class="placeholder">
      <h1>Alerts</h1>
      <p>This page is not built yet.</p>
    </div>
  );
}

// The SLOs page. Not built yet: a placeholder until it is.
import { Route } from '../route';

export function SLOsPage({ route }: { route: Route }) {
  void route;
  return (
    <div class="placeholder">
      <h1>SLOs</h1>
      <p>This page is not built yet.</p>
    </div>
  );
}

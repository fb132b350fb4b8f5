// The public status page served at `/status` (outside the hash routes, with
// no navigation): a read-only view for a service's users, as Uptime Kuma's.
// Not built yet: a placeholder until it is.
export function PublicStatusPage() {
  return (
    <div class="placeholder">
      <h1>Status</h1>
      <p>This page is not built yet.</p>
    </div>
  );
}

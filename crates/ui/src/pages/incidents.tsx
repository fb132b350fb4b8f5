// Incidents (docs/incidents.md): the list (unresolved first, with
// severity, age and status) and an incident's page: the trouble-ticket
// fields (editable), the runbook rendered from Markdown without raw HTML,
// the timeline, links to the signals of its window, and Acknowledge /
// Resolve / Comment / Copy as Markdown.
import { useState } from 'preact/hooks';
import { LabelChips, Pending, ago, fetchJson, useJson, utc } from '../components/data';
import { markdown, sanitize } from '../dash/panels/text';
import { Route, setParams } from '../route';

interface Event {
  time: string;
  kind: string;
  actor: string;
  text: string;
}

interface Incident {
  id: number;
  status: 'open' | 'acknowledged' | 'resolved';
  name: string;
  date: string;
  subject: string;
  affectedArea: string;
  severity: string;
  description: string;
  groupKey?: string;
  alerts: { fingerprint: string; labels: Record<string, string>; startsAt: string; endsAt?: string }[];
  openedAt: string;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  resolvedAt?: string;
  resolvedBy?: string;
  events: Event[];
}

interface IncidentView extends Incident {
  timeline: Event[];
  runbook: { url?: string; file?: string; markdown?: string };
  links: { incident: string; dashboard?: string; explore?: string; logs?: string; traces?: string };
}

const FIELDS: [keyof Incident, string][] = [
  ['name', 'Name'],
  ['subject', 'Subject'],
  ['affectedArea', 'Affected Area'],
  ['severity', 'Severity'],
  ['description', 'Description'],
];

/// The name actions are recorded under, remembered in this browser.
function actor(): string {
  return localStorage.getItem('sightline.incidents.by') ?? '';
}

async function send(path: string, method: string, body: object): Promise<void> {
  await fetchJson(path, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

function List({ route }: { route: Route }) {
  const p = route.params;
  const q = new URLSearchParams();
  for (const k of ['status', 'severity']) {
    const v = p.get(k);
    if (v) q.set(k, v);
  }
  const list = useJson<Incident[]>(`api/v1/incidents?${q}`, 10000);
  const [declaring, setDeclaring] = useState(false);
  const [err, setErr] = useState('');
  const set = (k: string, v: string) => {
    const n = new URLSearchParams(p);
    if (v) n.set(k, v);
    else n.delete(k);
    setParams('incidents', n, true);
  };
  const declare = async (e: Event | any) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    try {
      await send('api/v1/incidents', 'POST', {
        name: String(f.get('name') ?? ''),
        subject: String(f.get('subject') ?? ''),
        severity: String(f.get('severity') ?? ''),
        by: actor() || undefined,
      });
      setDeclaring(false);
      setErr('');
      list.reload();
    } catch (x: any) {
      setErr(String(x?.message ?? x));
    }
  };
  return (
    <div class="incidents">
      <div class="filter-bar">
        <select aria-label="Status" value={p.get('status') ?? ''} onChange={(e) => set('status', (e.target as HTMLSelectElement).value)}>
          <option value="">All statuses</option>
          <option value="open">open</option>
          <option value="acknowledged">acknowledged</option>
          <option value="resolved">resolved</option>
        </select>
        <input aria-label="Severity" placeholder="severity" value={p.get('severity') ?? ''} onChange={(e) => set('severity', (e.target as HTMLInputElement).value.trim())} />
        <button onClick={() => setDeclaring(!declaring)}>Declare incident</button>
      </div>
      {declaring && (
        <form class="declare" onSubmit={declare}>
          <input name="name" placeholder="Name" aria-label="Name" required />
          <input name="subject" placeholder="Subject" aria-label="Subject" />
          <input name="severity" placeholder="Severity" aria-label="Severity of the new incident" />
          <button type="submit">Declare</button>
        </form>
      )}
      {err && <div class="error">{err}</div>}
      {!list.data ? (
        <Pending l={list} />
      ) : list.data.length === 0 ? (
        <p class="hint">No incidents.</p>
      ) : (
        <table class="incident-list">
          <thead>
            <tr>
              <th>#</th>
              <th>Status</th>
              <th>Severity</th>
              <th>Name</th>
              <th>Subject</th>
              <th>Age</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((i) => (
              <tr class={`incident ${i.status}`}>
                <td>
                  <a href={`#/incidents/${i.id}`}>{i.id}</a>
                </td>
                <td>
                  <span class={`badge ${i.status}`}>{i.status}</span>
                </td>
                <td>{i.severity}</td>
                <td>
                  <a href={`#/incidents/${i.id}`}>{i.name}</a>
                </td>
                <td>{i.subject}</td>
                <td title={utc(i.openedAt)}>{ago(i.openedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Detail({ id }: { id: string }) {
  const v = useJson<IncidentView>(`api/v1/incidents/${encodeURIComponent(id)}`, 10000);
  const [editing, setEditing] = useState(false);
  const [err, setErr] = useState('');
  const [copied, setCopied] = useState('');
  const [by, setBy] = useState(actor());
  if (!v.data) return <Pending l={v} />;
  const i = v.data;
  const act = async (path: string, method: string, body: object) => {
    localStorage.setItem('sightline.incidents.by', by);
    try {
      await send(`api/v1/incidents/${i.id}${path}`, method, { ...body, by: by || undefined });
      setErr('');
      v.reload();
    } catch (x: any) {
      setErr(String(x?.message ?? x));
    }
  };
  const save = async (e: any) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const body: Record<string, string> = {};
    for (const [k] of FIELDS) body[k] = String(f.get(k) ?? '');
    await act('', 'PATCH', body);
    setEditing(false);
  };
  const comment = async (e: any) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const text = String(new FormData(form).get('text') ?? '');
    await act('/comments', 'POST', { text });
    form.reset();
  };
  const copy = async () => {
    const md = await (await fetch(`api/v1/incidents/${i.id}/ticket.md`)).text();
    try {
      await navigator.clipboard.writeText(md);
      setCopied('Copied.');
    } catch {
      setCopied('The browser refused the clipboard; the ticket is below.');
    }
    (document.getElementById('ticket-md') as HTMLTextAreaElement | null)?.replaceWith(Object.assign(document.createElement('textarea'), { id: 'ticket-md', value: md, rows: 12, readOnly: true }));
  };
  const links: [string, string | undefined][] = [
    ['Dashboard', i.links.dashboard],
    ['Explore', i.links.explore],
    ['Logs', i.links.logs],
    ['Traces', i.links.traces],
  ];
  return (
    <div class="incident-page">
      <p>
        <a href="#/incidents">← Incidents</a>
      </p>
      <h2>
        Incident {i.id}: {i.name} <span class={`badge ${i.status}`}>{i.status}</span>
      </h2>
      <div class="actions">
        <input aria-label="Your name" placeholder="your name" value={by} onInput={(e) => setBy((e.target as HTMLInputElement).value)} />
        <button disabled={i.status !== 'open'} onClick={() => act('/acknowledge', 'POST', {})}>
          Acknowledge
        </button>
        <button disabled={i.status === 'resolved'} onClick={() => act('/resolve', 'POST', {})}>
          Resolve
        </button>
        <button onClick={() => setEditing(!editing)}>Edit</button>
        <button onClick={copy}>Copy as Markdown</button>
        <span class="hint">{copied}</span>
      </div>
      {err && <div class="error">{err}</div>}
      {editing ? (
        <form class="ticket-edit" onSubmit={save}>
          {FIELDS.map(([k, label]) => (
            <label>
              {label}
              {k === 'description' ? <textarea name={k} rows={4} value={String(i[k] ?? '')} /> : <input name={k} value={String(i[k] ?? '')} />}
            </label>
          ))}
          <button type="submit">Save</button>
        </form>
      ) : (
        <dl class="ticket">
          <dt>Date</dt>
          <dd>{utc(i.date)}</dd>
          {FIELDS.map(([k, label]) => (
            <>
              <dt>{label}</dt>
              <dd>{String(i[k] ?? '')}</dd>
            </>
          ))}
          {i.acknowledgedAt && (
            <>
              <dt>Acknowledged</dt>
              <dd>
                {utc(i.acknowledgedAt)} by {i.acknowledgedBy}
              </dd>
            </>
          )}
          {i.resolvedAt && (
            <>
              <dt>Resolved</dt>
              <dd>
                {utc(i.resolvedAt)} by {i.resolvedBy}
              </dd>
            </>
          )}
        </dl>
      )}
      <textarea id="ticket-md" hidden />
      <h3>Links</h3>
      <ul class="links">
        {links
          .filter(([, l]) => l)
          .map(([name, l]) => (
            <li>
              <a href={l} target={l!.startsWith('#') ? undefined : '_blank'} rel="noopener">
                {name}
              </a>
            </li>
          ))}
      </ul>
      <h3>Runbook</h3>
      {i.runbook.url && (
        <p>
          <a href={i.runbook.url} target="_blank" rel="noopener">
            {i.runbook.url}
          </a>
        </p>
      )}
      {i.runbook.markdown ? (
        // Our own Markdown renderer escapes the text, then sanitize()
        // removes anything that could run (the dashboards' text panel).
        <div class="runbook" dangerouslySetInnerHTML={{ __html: sanitize(markdown(i.runbook.markdown)) }} />
      ) : (
        !i.runbook.url && <p class="hint">No runbook: add runbooks/{i.name}.md or a runbook_url annotation.</p>
      )}
      {i.alerts.length > 0 && (
        <>
          <h3>Alerts</h3>
          <ul class="incident-alerts">
            {i.alerts.map((a) => (
              <li>
                <LabelChips labels={a.labels} /> {a.endsAt ? `resolved ${utc(a.endsAt)}` : `firing since ${utc(a.startsAt)}`}
              </li>
            ))}
          </ul>
        </>
      )}
      <h3>Timeline</h3>
      <ol class="timeline">
        {collapse(i.timeline).map(({ e, n, last }) => (
          <li class={`event ${e.kind}`}>
            <span class="time">{utc(e.time)}</span>
            {n > 1 && <span class="time"> to {utc(last)}</span>} <b>{e.kind.replace('_', ' ')}</b>
            {n > 1 && <span class="repeats"> ×{n}</span>} <span class="actor">({e.actor})</span>
            {e.text && <span class="text">: {e.text}</span>}
          </li>
        ))}
      </ol>
      <form class="comment" onSubmit={comment}>
        <input name="text" aria-label="Comment" placeholder="Add a comment" required />
        <button type="submit">Comment</button>
      </form>
    </div>
  );
}

/// Consecutive notifications to the same receiver (a failing webhook
/// retried every second) as one line: the first, how many, until when,
/// and the latest outcome's text.
function collapse(events: Event[]): { e: Event; n: number; last: string }[] {
  const out: { e: Event; n: number; last: string }[] = [];
  const receiver = (e: Event) => (e.kind === 'notification' ? (e.text ?? '').split(':')[0] : null);
  for (const e of events) {
    const prev = out[out.length - 1];
    const r = receiver(e);
    if (prev && r != null && receiver(prev.e) === r && prev.e.actor === e.actor) {
      prev.n += 1;
      prev.last = e.time;
      prev.e = { ...prev.e, text: e.text };
      continue;
    }
    out.push({ e, n: 1, last: e.time });
  }
  return out;
}

export function IncidentsPage({ route }: { route: Route }) {
  const id = route.path.split('/')[1];
  return (
    <section>
      <h1>Incidents</h1>
      {id ? <Detail id={id} /> : <List route={route} />}
    </section>
  );
}

// Silences as in Alertmanager's UI: the list by state, one silence with
// the alerts it mutes, and the editor (new, from an alert's labels, edit,
// recreate). Alertmanager edits a silence by expiring it and creating
// another; POST /api/v2/silences with the id does both.
import { useEffect, useState } from 'preact/hooks';
import { LabelChips, Pending, ago, fetchJson, useJson, utc } from '../../components/data';
import { Route, setParams } from '../../route';
import { AlertCard } from './alert';
import { Matcher, OPS, Op, filterParams, formatMatcher, opOf, parseMatchers, withOp } from './matchers';
import { Alert, Silence } from './types';

const STATES = ['active', 'pending', 'expired'] as const;

export function Silences({ route, rest }: { route: Route; rest: string[] }) {
  if (rest[0] === 'new') return <SilenceEditor route={route} />;
  if (rest[0] && rest[1] === 'edit') return <SilenceEditor route={route} id={rest[0]} />;
  if (rest[0]) return <SilenceView id={rest[0]} />;
  return <SilenceList route={route} />;
}

function Matchers({ ms }: { ms: Matcher[] }) {
  return (
    <span class="chips">
      {ms.map((m) => (
        <span class="chip">{formatMatcher(m)}</span>
      ))}
    </span>
  );
}

/// Expire, with a second click to confirm (no browser dialog).
function ExpireButton({ id, done }: { id: string; done: () => void }) {
  const [armed, setArmed] = useState(false);
  const [error, setError] = useState<string>();
  const expire = async () => {
    try {
      await fetchJson(`api/v2/silence/${encodeURIComponent(id)}`, { method: 'DELETE' });
      done();
    } catch (e: any) {
      setError(e.message);
    }
  };
  return (
    <>
      {armed ? (
        <button class="danger expire-confirm" onClick={expire}>
          Confirm expire
        </button>
      ) : (
        <button class="expire" onClick={() => setArmed(true)}>
          Expire
        </button>
      )}
      {error && <span class="error">{error}</span>}
    </>
  );
}

function SilenceList({ route }: { route: Route }) {
  const p = route.params;
  const state = p.get('state') ?? 'active';
  const filter = p.get('filter') ?? '';
  const [draft, setDraft] = useState(filter);
  let bad: string | undefined;
  const q = new URLSearchParams();
  try {
    filterParams(parseMatchers(filter), q);
  } catch (e: any) {
    bad = e.message;
  }
  const silences = useJson<Silence[]>(bad ? null : `api/v2/silences?${q}`);
  const set = (k: string, v: string) => {
    const n = new URLSearchParams(p);
    if (v) n.set(k, v);
    else n.delete(k);
    setParams(route.path, n, true);
  };
  const list = (silences.data ?? []).filter((s) => s.status.state === state);
  list.sort((a, b) => (state === 'expired' ? b.endsAt.localeCompare(a.endsAt) : a.endsAt.localeCompare(b.endsAt)));
  return (
    <div class="silences">
      <form
        class="filter-bar"
        onSubmit={(e) => {
          e.preventDefault();
          set('filter', draft.trim());
        }}
      >
        <input
          class="matchers"
          aria-label="Filter silences"
          placeholder='{alertname="TargetDown"}'
          value={draft}
          onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Filter</button>
        <a class="button primary new-silence" href="#/silences/new">
          New silence
        </a>
      </form>
      {bad && <div class="error">{bad}</div>}
      <div class="tabs">
        {STATES.map((s) => (
          <button class={`tab ${s === state ? 'active' : ''}`} onClick={() => set('state', s === 'active' ? '' : s)}>
            {s} ({(silences.data ?? []).filter((x) => x.status.state === s).length})
          </button>
        ))}
      </div>
      {!silences.data && !bad && <Pending l={silences} />}
      {silences.data && list.length === 0 && <p class="hint">No {state} silences.</p>}
      {list.map((s) => (
        <div class={`silence state-${s.status.state}`} data-id={s.id}>
          <div class="silence-head">
            <span class={`badge ${s.status.state}`}>{s.status.state}</span>
            <span class="when" title={`${utc(s.startsAt)} to ${utc(s.endsAt)}`}>
              {s.status.state === 'pending' ? `starts ${ago(s.startsAt)}` : s.status.state === 'active' ? `ends ${ago(s.endsAt)}` : `expired ${ago(s.endsAt)}`}
            </span>
            <span class="hint">
              by {s.createdBy}: {s.comment}
            </span>
            <span class="actions">
              <a class="button" href={`#/silences/${s.id}`}>
                View
              </a>
              <a class="button" href={`#/silences/${s.id}/edit`}>
                {s.status.state === 'expired' ? 'Recreate' : 'Edit'}
              </a>
              {s.status.state !== 'expired' && <ExpireButton id={s.id} done={silences.reload} />}
            </span>
          </div>
          <Matchers ms={s.matchers} />
        </div>
      ))}
    </div>
  );
}

function SilenceView({ id }: { id: string }) {
  const s = useJson<Silence>(`api/v2/silence/${encodeURIComponent(id)}`);
  const ms = s.data?.matchers ?? [];
  const alerts = useJson<Alert[]>(s.data ? `api/v2/alerts?${filterParams(ms)}` : null);
  if (!s.data) return <Pending l={s} />;
  const v = s.data;
  return (
    <div class="silence-view" data-id={v.id}>
      <h2>
        Silence <code>{v.id}</code> <span class={`badge ${v.status.state}`}>{v.status.state}</span>
      </h2>
      <table class="kv">
        <tbody>
          <tr>
            <th>Matchers</th>
            <td>
              <Matchers ms={v.matchers} />
            </td>
          </tr>
          <tr>
            <th>Starts</th>
            <td>
              {utc(v.startsAt)} ({ago(v.startsAt)})
            </td>
          </tr>
          <tr>
            <th>Ends</th>
            <td>
              {utc(v.endsAt)} ({ago(v.endsAt)})
            </td>
          </tr>
          <tr>
            <th>Created by</th>
            <td>{v.createdBy}</td>
          </tr>
          <tr>
            <th>Comment</th>
            <td>{v.comment}</td>
          </tr>
        </tbody>
      </table>
      <div class="actions">
        <a class="button" href={`#/silences/${v.id}/edit`}>
          {v.status.state === 'expired' ? 'Recreate' : 'Edit'}
        </a>
        {v.status.state !== 'expired' && <ExpireButton id={v.id} done={s.reload} />}
        <a class="button" href="#/silences">
          All silences
        </a>
      </div>
      <h3>Affected alerts</h3>
      {!alerts.data && <Pending l={alerts} />}
      {alerts.data && alerts.data.length === 0 && <p class="hint">No alert matches.</p>}
      {alerts.data?.map((a) => (
        <AlertCard a={a} />
      ))}
    </div>
  );
}

const UNITS: Record<string, number> = { m: 60, h: 3600, d: 86400, w: 604800 };

/// `1d2h30m` in seconds, or NaN.
function parseDuration(s: string): number {
  const t = s.trim();
  if (!/^(\d+[wdhm])+$/.test(t)) return NaN;
  let sum = 0;
  for (const m of t.matchAll(/(\d+)([wdhm])/g)) sum += Number(m[1]) * UNITS[m[2]];
  return sum;
}

function formatDuration(s: number): string {
  if (!(s > 0)) return '';
  let r = Math.round(s / 60);
  const out: string[] = [];
  for (const [u, n] of [
    ['w', 10080],
    ['d', 1440],
    ['h', 60],
    ['m', 1],
  ] as [string, number][]) {
    if (r >= n) {
      out.push(`${Math.floor(r / n)}${u}`);
      r %= n;
    }
  }
  return out.join('') || '0m';
}

const iso = (ms: number) => new Date(ms).toISOString();
const AUTHOR_KEY = 'sightline.silence.author';

interface Form {
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  dur: string;
  createdBy: string;
  comment: string;
}

function SilenceEditor({ route, id }: { route: Route; id?: string }) {
  const old = useJson<Silence>(id ? `api/v2/silence/${encodeURIComponent(id)}` : null);
  const [form, setForm] = useState<Form | null>(null);
  const [error, setError] = useState<string>();
  const [saving, setSaving] = useState(false);
  const recreate = old.data?.status.state === 'expired';

  // The starting point: the old silence, or the URL's filter (an alert's
  // labels when it came from an alert's Silence button).
  useEffect(() => {
    const now = Date.now();
    const author = localStorage.getItem(AUTHOR_KEY) ?? '';
    if (id) {
      if (!old.data) return;
      const s = old.data;
      const len = Date.parse(s.endsAt) - Date.parse(s.startsAt);
      const start = recreate ? now : Date.parse(s.startsAt);
      const end = recreate ? now + len : Date.parse(s.endsAt);
      setForm({
        matchers: s.matchers.map((m) => ({ ...m })),
        startsAt: iso(start),
        endsAt: iso(end),
        dur: formatDuration((end - start) / 1000),
        createdBy: s.createdBy,
        comment: s.comment,
      });
      return;
    }
    let matchers: Matcher[] = [];
    try {
      matchers = parseMatchers(route.params.get('filter') ?? '');
    } catch (e: any) {
      setError(e.message);
    }
    if (!matchers.length) matchers = [{ name: '', value: '', isRegex: false, isEqual: true }];
    setForm({ matchers, startsAt: iso(now), endsAt: iso(now + 2 * 3600e3), dur: '2h', createdBy: author, comment: '' });
  }, [id, old.data]);

  const ready = form?.matchers.filter((m) => m.name !== '') ?? [];
  const preview = useJson<Alert[]>(ready.length ? `api/v2/alerts?${filterParams(ready)}` : null);

  if (id && !old.data) return <Pending l={old} />;
  if (!form) return <Pending l={old} />;
  const up = (f: Partial<Form>) => setForm({ ...form, ...f });
  const setMatcher = (i: number, m: Partial<Matcher>) => up({ matchers: form.matchers.map((x, j) => (j === i ? { ...x, ...m } : x)) });

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setSaving(true);
    localStorage.setItem(AUTHOR_KEY, form.createdBy);
    const body: any = {
      matchers: form.matchers.filter((m) => m.name !== '' || m.value !== ''),
      startsAt: form.startsAt,
      endsAt: form.endsAt,
      createdBy: form.createdBy,
      comment: form.comment,
    };
    if (id && !recreate) body.id = id;
    try {
      const r = await fetchJson<{ silenceID: string }>('api/v2/silences', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      window.location.hash = `#/silences/${r.silenceID}`;
    } catch (err: any) {
      setError(err.message);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form class="silence-editor" onSubmit={submit}>
      <h2>{id ? (recreate ? 'Recreate silence' : `Edit silence ${id}`) : 'New silence'}</h2>
      <fieldset>
        <legend>Matchers (alerts matching all of them are silenced)</legend>
        {form.matchers.map((m, i) => (
          <div class="matcher-row">
            <input aria-label="Label name" name="name" placeholder="name" value={m.name} onInput={(e) => setMatcher(i, { name: (e.target as HTMLInputElement).value })} />
            <select aria-label="Operator" value={opOf(m)} onChange={(e) => setForm({ ...form, matchers: form.matchers.map((x, j) => (j === i ? withOp(x, (e.target as HTMLSelectElement).value as Op) : x)) })}>
              {OPS.map((o) => (
                <option value={o}>{o}</option>
              ))}
            </select>
            <input aria-label="Label value" name="value" placeholder="value" value={m.value} onInput={(e) => setMatcher(i, { value: (e.target as HTMLInputElement).value })} />
            <button type="button" title="Remove matcher" onClick={() => up({ matchers: form.matchers.filter((_, j) => j !== i) })}>
              ×
            </button>
          </div>
        ))}
        <button type="button" class="add-matcher" onClick={() => up({ matchers: [...form.matchers, { name: '', value: '', isRegex: false, isEqual: true }] })}>
          Add matcher
        </button>
      </fieldset>
      <div class="times">
        <label>
          Start
          <input
            name="startsAt"
            value={form.startsAt}
            onInput={(e) => {
              const v = (e.target as HTMLInputElement).value;
              const d = parseDuration(form.dur);
              const t = Date.parse(v);
              up({ startsAt: v, ...(isNaN(t) || isNaN(d) ? {} : { endsAt: iso(t + d * 1000) }) });
            }}
          />
        </label>
        <label>
          Duration
          <input
            name="duration"
            value={form.dur}
            placeholder="2h"
            onInput={(e) => {
              const v = (e.target as HTMLInputElement).value;
              const d = parseDuration(v);
              const t = Date.parse(form.startsAt);
              up({ dur: v, ...(isNaN(t) || isNaN(d) ? {} : { endsAt: iso(t + d * 1000) }) });
            }}
          />
        </label>
        <label>
          End
          <input
            name="endsAt"
            value={form.endsAt}
            onInput={(e) => {
              const v = (e.target as HTMLInputElement).value;
              const t = Date.parse(v);
              const s = Date.parse(form.startsAt);
              up({ endsAt: v, ...(isNaN(t) || isNaN(s) ? {} : { dur: formatDuration((t - s) / 1000) }) });
            }}
          />
        </label>
      </div>
      <label class="block">
        Created by
        <input name="createdBy" value={form.createdBy} onInput={(e) => up({ createdBy: (e.target as HTMLInputElement).value })} />
      </label>
      <label class="block">
        Comment
        <textarea name="comment" rows={3} value={form.comment} onInput={(e) => up({ comment: (e.target as HTMLTextAreaElement).value })} />
      </label>
      {error && <div class="error">{error}</div>}
      <div class="actions">
        <button class="primary" type="submit" disabled={saving}>
          {id && !recreate ? 'Update' : 'Create'}
        </button>
        <a class="button" href={id ? `#/silences/${id}` : '#/silences'}>
          Cancel
        </a>
      </div>
      <h3>
        Affected alerts {preview.data && <span class="hint">({preview.data.length})</span>}
      </h3>
      {ready.length === 0 && <p class="hint">Add a matcher to see the alerts it silences.</p>}
      {ready.length > 0 && !preview.data && <Pending l={preview} />}
      {preview.data && preview.data.length === 0 && <p class="hint">No alert matches these matchers now.</p>}
      <div class="preview">
        {preview.data?.map((a) => (
          <div class="preview-alert" data-fingerprint={a.fingerprint}>
            <LabelChips labels={a.labels} /> <span class={`badge ${a.status.state}`}>{a.status.state}</span>
          </div>
        ))}
      </div>
    </form>
  );
}

// The Events section: product analytics over the event store
// (`/api/v1/events/*`, docs/events-analytics.md). `#/events/<tab>`:
// trends (counts and people per event over time, with a breakdown),
// active (DAU, WAU, MAU, stickiness), funnels, retention, abtest (in
// events_analysis.tsx) and list (the newest events).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, Series, getJSON } from '../api';
import { Chart } from '../chart';
import { Route, href, setParams } from '../route';
import { DEFAULT_FROM, DEFAULT_TO, parseTime } from '../time';
import { AbTestTab, FunnelsTab, RetentionTab } from './events_analysis';

const TABS: [string, string][] = [
  ['trends', 'Trends'],
  ['active', 'Active users'],
  ['funnels', 'Funnels'],
  ['retention', 'Retention'],
  ['abtest', 'A/B tests'],
  ['list', 'Event list'],
];

/// The page's time range in unix seconds, for the API's `start`/`end`.
export interface Range {
  start: number;
  end: number;
  fromMs: number;
  toMs: number;
}

export function pageRange(route: Route): Range | string {
  const now = Date.now();
  try {
    const fromMs = parseTime(route.params.get('from') ?? DEFAULT_FROM, now);
    const toMs = parseTime(route.params.get('to') ?? DEFAULT_TO, now);
    return { start: fromMs / 1000, end: toMs / 1000, fromMs, toMs };
  } catch (e: any) {
    return e.message;
  }
}

/// POST of a JSON question: the answer's `data`, or an ApiError.
export async function ask<T = any>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`api/v1/events/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const raw = await res.text();
  let json: any;
  try {
    json = JSON.parse(raw);
  } catch {
    throw { status: res.status, error: `HTTP ${res.status}: ${raw.slice(0, 500)}` } as ApiError;
  }
  if (json.status !== 'success') throw { status: res.status, errorType: json.errorType, error: json.error ?? raw } as ApiError;
  return json.data as T;
}

/// A question's answer as it loads: the data, an error, or neither yet.
export interface Answer<T> {
  data?: T;
  error?: string;
  loading: boolean;
}

/// Asks `path` with `body` whenever the key (the body as JSON) changes.
export function useAnswer<T>(path: string, body: unknown | null): Answer<T> {
  const [a, setA] = useState<Answer<T>>({ loading: false });
  const key = body == null ? '' : JSON.stringify(body);
  useEffect(() => {
    if (body == null) return;
    let live = true;
    setA({ loading: true });
    ask<T>(path, body).then(
      (data) => live && setA({ data, loading: false }),
      (e: ApiError) => live && setA({ error: e.error ?? String(e), loading: false }),
    );
    return () => {
      live = false;
    };
  }, [path, key]);
  return a;
}

/// Event names of the range, most frequent first.
export function useNames(range: Range | string): string[] {
  const [names, setNames] = useState<string[]>([]);
  const key = typeof range === 'string' ? '' : `${Math.floor(range.start)}-${Math.floor(range.end)}`;
  useEffect(() => {
    if (typeof range === 'string') return;
    getJSON<{ name: string }[]>(`api/v1/events/names?start=${range.start}&end=${range.end}`).then(
      (d) => setNames(d.map((n) => n.name)),
      () => setNames([]),
    );
  }, [key]);
  return names;
}

/// Property keys of an event's newest occurrences.
export function useProperties(range: Range | string, event: string): string[] {
  const [keys, setKeys] = useState<string[]>([]);
  const key = typeof range === 'string' ? '' : `${Math.floor(range.start)}-${Math.floor(range.end)}-${event}`;
  useEffect(() => {
    if (typeof range === 'string' || !event) return;
    const q = new URLSearchParams({ start: String(range.start), end: String(range.end), event });
    getJSON<{ key: string }[]>(`api/v1/events/properties?${q}`).then(
      (d) => setKeys(d.map((k) => k.key)),
      () => setKeys([]),
    );
  }, [key]);
  return keys;
}

/// A labelled select.
export function Pick({ label, value, options, onChange, blank }: { label: string; value: string; options: string[]; onChange: (v: string) => void; blank?: string }) {
  const opts = options.includes(value) || !value ? options : [value, ...options];
  return (
    <span class="var">
      <label>{label}</label>
      <select aria-label={label} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {blank !== undefined && <option value="">{blank}</option>}
        {opts.map((o) => (
          <option value={o}>{o}</option>
        ))}
      </select>
    </span>
  );
}

/// A labelled text input.
/// A text field applied when it is left (or Enter is pressed). What is
/// typed is kept in a draft: a re-render while typing (an answer arriving)
/// re-applied `value` to the input and threw the typing away.
export function Text({ label, value, onChange, width = 80 }: { label: string; value: string; onChange: (v: string) => void; width?: number }) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  return (
    <span class="var">
      <label>{label}</label>
      <input
        aria-label={label}
        style={{ width: `${width}px` }}
        value={draft}
        onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
        onChange={(e) => onChange((e.target as HTMLInputElement).value)}
      />
    </span>
  );
}

export const pct = (v: number | null | undefined, d = 1) => (v == null ? '-' : `${(v * 100).toFixed(d)}%`);
export const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/// Loading, error, or the view of the data.
export function Shown<T>({ a, empty, children }: { a: Answer<T>; empty?: (d: T) => boolean; children: (d: T) => preact.JSX.Element }) {
  if (a.error) return <div class="error">{a.error}</div>;
  if (!a.data) return <p class="hint">{a.loading ? 'Loading…' : 'Choose what to ask.'}</p>;
  if (empty && empty(a.data)) return <p class="hint">No events match in this time range.</p>;
  return children(a.data);
}

export function EventsPage({ route }: { route: Route }) {
  const tab = route.path.split('/')[1] || 'trends';
  const range = pageRange(route);
  return (
    <div class="events-page">
      <h1>Events</h1>
      <div class="tabs">
        {TABS.map(([t, title]) => (
          <a class={'tab' + (t === tab ? ' active' : '')} href={href(`events/${t}`, route.params)}>
            {title}
          </a>
        ))}
      </div>
      {typeof range === 'string' ? (
        <div class="error">{range}</div>
      ) : tab === 'trends' ? (
        <TrendsTab route={route} range={range} />
      ) : tab === 'active' ? (
        <ActiveTab route={route} range={range} />
      ) : tab === 'funnels' ? (
        <FunnelsTab range={range} />
      ) : tab === 'retention' ? (
        <RetentionTab range={range} />
      ) : tab === 'abtest' ? (
        <AbTestTab range={range} />
      ) : (
        <ListTab range={range} />
      )}
    </div>
  );
}

/// Moves the page's time range (chart zoom).
function zoomTo(route: Route) {
  return (a: number, b: number) => {
    const p = new URLSearchParams(route.params);
    p.set('from', String(Math.round(a)));
    p.set('to', String(Math.round(b)));
    setParams(route.path, p, true);
  };
}

const STEP_S: Record<string, number> = { hour: 3600, day: 86400, week: 604800, month: 86400 };

interface TrendSeries {
  event: string;
  breakdown: string | null;
  other: boolean;
  counts: number[];
  people: number[];
  total: number;
  total_people: number;
}

export function seriesLabel(s: { event: string; breakdown: string | null }, breakdown: string): string {
  return breakdown ? `${s.event} · ${s.breakdown ?? '(none)'}` : s.event;
}

function TrendsTab({ route, range }: { route: Route; range: Range }) {
  const names = useNames(range);
  const [event, setEvent] = useState(route.params.get('event') ?? '');
  const [breakdown, setBreakdown] = useState('');
  const [step, setStep] = useState('day');
  const [measure, setMeasure] = useState('events');
  const ev = event || names[0] || '';
  const props = useProperties(range, ev);
  const a = useAnswer<{ buckets: number[]; series: TrendSeries[] }>(
    'query',
    ev ? { start: range.start, end: range.end, step, events: [ev], breakdown: breakdown || null, limit: 8 } : null,
  );
  return (
    <section>
      <div class="vars">
        <Pick label="Event" value={ev} options={names} onChange={setEvent} />
        <Pick label="Breakdown" value={breakdown} options={props} onChange={setBreakdown} blank="none" />
        <Pick label="Step" value={step} options={['hour', 'day', 'week', 'month']} onChange={setStep} />
        <Pick label="Measure" value={measure} options={['events', 'people']} onChange={setMeasure} />
      </div>
      {!names.length && <p class="hint">No events in this time range. Send some to /v1/track (docs/events-intake.md).</p>}
      <Shown a={a} empty={(d) => d.series.every((s) => s.total === 0)}>
        {(d) => {
          const series: Series[] = d.series.map((s) => ({
            metric: { __name__: seriesLabel(s, breakdown) },
            values: d.buckets.map((t, i) => [t / 1000, String(measure === 'people' ? s.people[i] : s.counts[i])] as [number, string]),
          }));
          return (
            <>
              <Chart series={series} fromMs={d.buckets[0]} toMs={d.buckets[d.buckets.length - 1]} stepS={STEP_S[step]} stacked={false} points={d.buckets.length < 3} onZoom={zoomTo(route)} height={300} />
              <table class="result trends">
                <thead>
                  <tr>
                    <th>series</th>
                    <th class="num">events</th>
                    <th class="num">people</th>
                  </tr>
                </thead>
                <tbody>
                  {d.series.map((s) => (
                    <tr>
                      <td>{seriesLabel(s, breakdown)}</td>
                      <td class="num">{s.total}</td>
                      <td class="num">{s.total_people}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          );
        }}
      </Shown>
    </section>
  );
}

interface ActiveDay {
  day_ms: number;
  dau: number;
  wau: number;
  mau: number;
  stickiness: number;
}

function ActiveTab({ route, range }: { route: Route; range: Range }) {
  const names = useNames(range);
  const [event, setEvent] = useState('');
  const a = useAnswer<{ days: ActiveDay[]; mean_dau: number; mean_stickiness: number }>('active_users', {
    start: range.start,
    end: range.end,
    events: event ? [event] : [],
  });
  return (
    <section>
      <div class="vars">
        <Pick label="Active means" value={event} options={names} onChange={setEvent} blank="any event" />
      </div>
      <p class="hint">WAU and MAU count the people active in the 7 and 30 UTC days ending each day; stickiness is DAU / MAU.</p>
      <Shown a={a} empty={(d) => d.days.every((x) => x.mau === 0)}>
        {(d) => {
          const last = d.days[d.days.length - 1];
          const line = (name: string, f: (x: ActiveDay) => number): Series => ({
            metric: { __name__: name },
            values: d.days.map((x) => [x.day_ms / 1000, String(f(x))] as [number, string]),
          });
          return (
            <>
              <div class="stats active-stats">
                <Stat label="DAU (last day)" value={String(last.dau)} />
                <Stat label="WAU" value={String(last.wau)} />
                <Stat label="MAU" value={String(last.mau)} />
                <Stat label="stickiness" value={pct(last.stickiness)} />
                <Stat label="mean DAU" value={d.mean_dau.toFixed(1)} />
              </div>
              <Chart series={[line('DAU', (x) => x.dau), line('WAU', (x) => x.wau), line('MAU', (x) => x.mau)]} fromMs={d.days[0].day_ms} toMs={last.day_ms} stepS={86400} stacked={false} points={d.days.length < 3} onZoom={zoomTo(route)} height={300} />
              <table class="result active-days">
                <thead>
                  <tr>
                    <th>day</th>
                    <th class="num">DAU</th>
                    <th class="num">WAU</th>
                    <th class="num">MAU</th>
                    <th class="num">stickiness</th>
                  </tr>
                </thead>
                <tbody>
                  {[...d.days].reverse().map((x) => (
                    <tr>
                      <td>{day(x.day_ms)}</td>
                      <td class="num">{x.dau}</td>
                      <td class="num">{x.wau}</td>
                      <td class="num">{x.mau}</td>
                      <td class="num">{pct(x.stickiness)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          );
        }}
      </Shown>
    </section>
  );
}

export function Stat({ label, value, sub }: { label: string; value: string; sub?: string }) {
  return (
    <div class="stat" data-stat={label}>
      <div class="label">{label}</div>
      <div class="value">{value}</div>
      {sub && <div class="sub hint">{sub}</div>}
    </div>
  );
}

interface ListedEvent {
  timestampMs: number;
  type: string;
  name: string;
  userId?: string;
  anonymousId?: string;
  source: string;
  properties?: Record<string, unknown>;
}

function ListTab({ range }: { range: Range }) {
  const [event, setEvent] = useState('');
  const [person, setPerson] = useState('');
  const [end, setEnd] = useState<number | null>(null);
  const names = useNames(range);
  const [state, setState] = useState<Answer<{ events: ListedEvent[]; next_end: number | null }>>({ loading: true });
  useEffect(() => {
    const q = new URLSearchParams({ start: String(range.start), end: String(end != null ? end / 1000 : range.end), limit: '50' });
    if (event) q.set('event', event);
    if (person) q.set('person', person);
    let live = true;
    getJSON(`api/v1/events/list?${q}`).then(
      (data) => live && setState({ data, loading: false }),
      (e: ApiError) => live && setState({ error: e.error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [range.start, range.end, event, person, end]);
  return (
    <section>
      <div class="vars">
        <Pick label="Event" value={event} options={names} onChange={(v) => (setEvent(v), setEnd(null))} blank="all" />
        <Text label="Person" value={person} onChange={(v) => (setPerson(v), setEnd(null))} width={160} />
        {end != null && <button onClick={() => setEnd(null)}>Newest</button>}
      </div>
      <Shown a={state} empty={(d) => !d.events.length}>
        {(d) => (
          <>
            <table class="result event-list">
              <thead>
                <tr>
                  <th>time (UTC)</th>
                  <th>event</th>
                  <th>person</th>
                  <th>source</th>
                  <th>properties</th>
                </tr>
              </thead>
              <tbody>
                {d.events.map((e) => (
                  <tr>
                    <td>{stamp(e.timestampMs)}</td>
                    <td>{e.name || e.type}</td>
                    <td>{e.userId ?? e.anonymousId ?? ''}</td>
                    <td>{e.source}</td>
                    <td class="props">{e.properties ? JSON.stringify(e.properties) : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {d.next_end != null && <button onClick={() => setEnd(d.next_end)}>Older</button>}
          </>
        )}
      </Shown>
    </section>
  );
}

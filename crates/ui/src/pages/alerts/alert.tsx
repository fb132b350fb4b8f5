// One Alertmanager alert as a card: state, labels, annotations (links
// clickable), when it started, its source in Explore, what mutes it, and
// the button that starts a silence for it.
import { LabelChips, ago, sourceHref, utc } from '../../components/data';
import { formatMatchers, matchersOf } from './matchers';
import { Alert } from './types';

/// Text with its http(s) URLs as links (runbooks, dashboards).
export function Linked({ text }: { text: string }) {
  const parts = text.split(/(https?:\/\/[^\s<>"]+)/);
  return (
    <>
      {parts.map((p, i) =>
        i % 2 ? (
          <a href={p} target="_blank" rel="noopener noreferrer">
            {p}
          </a>
        ) : (
          p
        ),
      )}
    </>
  );
}

export function silenceNewHref(labels: Record<string, string>): string {
  return `#/silences/new?${new URLSearchParams({ filter: formatMatchers(matchersOf(labels)) })}`;
}

export function AlertCard({
  a,
  hide = [],
  byFingerprint,
}: {
  a: Alert;
  /// Labels already shown by the group header.
  hide?: string[];
  /// Other alerts, to name the ones that inhibit this one.
  byFingerprint?: Map<string, Alert>;
}) {
  const st = a.status ?? { state: 'active', silencedBy: [], inhibitedBy: [] };
  const ann = Object.keys(a.annotations ?? {}).sort();
  return (
    <div class={`alert state-${st.state}`} data-fingerprint={a.fingerprint}>
      <div class="alert-head">
        <span class={`badge ${st.state}`}>{st.state}</span>
        <span class="when" title={utc(a.startsAt)}>
          since {ago(a.startsAt)}
        </span>
        {a.generatorURL && (
          <a class="source" href={sourceHref(a.generatorURL)}>
            source
          </a>
        )}
        <a class="button silence-btn" href={silenceNewHref(a.labels)}>
          Silence
        </a>
      </div>
      <LabelChips labels={a.labels} skip={hide} />
      {ann.length > 0 && (
        <dl class="annotations">
          {ann.map((k) => (
            <>
              <dt>{k}</dt>
              <dd>
                <Linked text={a.annotations[k]} />
              </dd>
            </>
          ))}
        </dl>
      )}
      {st.silencedBy?.length > 0 && (
        <div class="muted-by">
          Silenced by{' '}
          {st.silencedBy.map((id) => (
            <a class="silenced-by" href={`#/silences/${id}`}>
              {id}
            </a>
          ))}
        </div>
      )}
      {st.inhibitedBy?.length > 0 && (
        <div class="muted-by">
          Inhibited by{' '}
          {st.inhibitedBy.map((fp) => {
            const src = byFingerprint?.get(fp);
            return (
              <span class="inhibited-by" title={fp}>
                {src ? <LabelChips labels={src.labels} /> : fp}
              </span>
            );
          })}
        </div>
      )}
    </div>
  );
}

// The panel editor: title, visualisation, unit, min/max, thresholds and
// the data source and its queries (PromQL or LogQL editor, legend format,
// instant), with a live preview of the panel as edited.
import { useState } from 'preact/hooks';
import { Editor } from '../editor';
import { Panel, Target } from './model';
import { Scope, DATASOURCE, LOGS_DATASOURCE, datasourceKind, targetDatasource } from './vars';
import { PanelView, PANEL_TYPES } from './panel';
import { UNIT_CHOICES } from './units';

interface Props {
  panel: Panel;
  scope: Scope;
  fromMs: number;
  toMs: number;
  scrapeMs: number;
  onApply: (p: Panel) => void;
  onCancel: () => void;
}

export function PanelEditor({ panel, scope, fromMs, toMs, scrapeMs, onApply, onCancel }: Props) {
  const [draft, setDraft] = useState<Panel>(() => JSON.parse(JSON.stringify(panel)));
  // The preview runs the queries as of the last "Run queries" (or Enter),
  // not on every keystroke.
  const [shown, setShown] = useState<Panel>(draft);
  const [run, setRun] = useState(0);
  const defaults = draft.fieldConfig?.defaults ?? {};
  const set = (patch: Partial<Panel>) => setDraft((d) => ({ ...d, ...patch }));
  const setDefaults = (patch: Record<string, any>) =>
    setDraft((d) => ({ ...d, fieldConfig: { overrides: d.fieldConfig?.overrides ?? [], defaults: { ...(d.fieldConfig?.defaults ?? {}), ...patch } } }));
  const setTarget = (i: number, patch: Partial<Target>) =>
    setDraft((d) => ({ ...d, targets: (d.targets ?? []).map((t, j) => (j === i ? { ...t, ...patch } : t)) }));
  const apply = () => {
    setShown(draft);
    setRun((r) => r + 1);
  };
  const kind = datasourceKind(targetDatasource(draft.datasource, draft.targets?.[0]?.datasource), scope);
  const num = (s: string) => (s.trim() === '' ? undefined : Number(s));

  return (
    <div class="overlay">
      <div class="panel-editor">
        <div class="pe-preview">
          <PanelView panel={shown} scope={scope} scopeKey={`edit-${run}`} fromMs={fromMs} toMs={toMs} tick={run} scrapeMs={scrapeMs} />
        </div>
        <div class="pe-side">
          <label>
            Title
            <input id="pe-title" value={draft.title ?? ''} onInput={(e) => set({ title: (e.target as HTMLInputElement).value })} />
          </label>
          <label>
            Visualisation
            <select id="pe-type" value={draft.type} onChange={(e) => (set({ type: (e.target as HTMLSelectElement).value }), setShown({ ...draft, type: (e.target as HTMLSelectElement).value }))}>
              {PANEL_TYPES.map((t) => (
                <option value={t}>{t}</option>
              ))}
            </select>
          </label>
          <label>
            Data source
            <select
              id="pe-ds"
              value={kind}
              onChange={(e) => {
                const ds = (e.target as HTMLSelectElement).value === 'loki' ? LOGS_DATASOURCE : DATASOURCE;
                const ref = { type: ds.type, uid: ds.uid };
                set({ datasource: ref, targets: (draft.targets ?? []).map((t) => ({ ...t, datasource: ref })) });
              }}
            >
              <option value="prometheus">{DATASOURCE.name} (PromQL)</option>
              <option value="loki">{LOGS_DATASOURCE.name} (LogQL)</option>
            </select>
          </label>
          <label>
            Unit
            <select value={defaults.unit ?? ''} onChange={(e) => setDefaults({ unit: (e.target as HTMLSelectElement).value || undefined })}>
              <option value="">(auto)</option>
              {UNIT_CHOICES.map((u) => (
                <option value={u}>{u}</option>
              ))}
            </select>
          </label>
          <div class="pe-pair">
            <label>
              Min
              <input value={defaults.min ?? ''} onInput={(e) => setDefaults({ min: num((e.target as HTMLInputElement).value) })} />
            </label>
            <label>
              Max
              <input value={defaults.max ?? ''} onInput={(e) => setDefaults({ max: num((e.target as HTMLInputElement).value) })} />
            </label>
          </div>
          <label>
            Thresholds <small>(value:colour, …; the first has no value)</small>
            <input
              value={(defaults.thresholds?.steps ?? []).map((s) => (s.value == null ? s.color : `${s.value}:${s.color}`)).join(', ')}
              onChange={(e) => {
                const steps = (e.target as HTMLInputElement).value
                  .split(',')
                  .map((x) => x.trim())
                  .filter(Boolean)
                  .map((x) => {
                    const [a, b] = x.split(':');
                    return b == null ? { color: a, value: null } : { color: b, value: Number(a) };
                  });
                setDefaults({ thresholds: { mode: 'absolute', steps } });
              }}
            />
          </label>
          {draft.type === 'text' ? (
            <label>
              Content (markdown)
              <textarea rows={10} value={draft.options?.content ?? ''} onInput={(e) => set({ options: { ...draft.options, mode: 'markdown', content: (e.target as HTMLTextAreaElement).value } })} />
            </label>
          ) : (
            <div class="pe-queries">
              {(draft.targets ?? []).map((t, i) => (
                <div class="pe-query">
                  <div class="pe-ref">{t.refId ?? String.fromCharCode(65 + i)}</div>
                  <Editor key={`${kind}-${i}`} language={kind === 'loki' ? 'logql' : 'promql'} initial={t.expr ?? ''} onChange={(v) => setTarget(i, { expr: v })} onRun={apply} />
                  <div class="pe-pair">
                    <label>
                      Legend
                      <input placeholder="{{label}}" value={t.legendFormat ?? ''} onInput={(e) => setTarget(i, { legendFormat: (e.target as HTMLInputElement).value })} />
                    </label>
                    <label class="check">
                      <input type="checkbox" checked={!!t.instant} onChange={(e) => setTarget(i, { instant: (e.target as HTMLInputElement).checked, range: !(e.target as HTMLInputElement).checked })} /> instant
                    </label>
                    <button onClick={() => set({ targets: (draft.targets ?? []).filter((_, j) => j !== i) })}>Remove</button>
                  </div>
                </div>
              ))}
              <button onClick={() => set({ targets: [...(draft.targets ?? []), { refId: String.fromCharCode(65 + (draft.targets?.length ?? 0)), expr: '' }] })}>Add query</button>
            </div>
          )}
          <div class="pe-buttons">
            <button onClick={apply}>Run queries</button>
            <button class="primary" id="pe-apply" onClick={() => onApply(draft)}>
              Apply
            </button>
            <button onClick={onCancel}>Cancel</button>
          </div>
        </div>
      </div>
    </div>
  );
}

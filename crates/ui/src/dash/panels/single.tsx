// Panels that reduce each series to one value: stat (big number with an
// optional sparkline), gauge (an arc with threshold bands) and bar gauge.
import { Panel, FieldConfig } from '../model';
import { PanelData, reduce } from '../data';
import { fieldFor, displayName, display, color, withAlpha } from '../fields';
import { valueColor } from './timeseries';

export interface Reduced {
  name: string;
  fc: FieldConfig;
  value: number | null;
  text: string;
  color: string;
  values: (number | null)[];
}

/// One value per series by `reduceOptions.calcs[0]` (default last non-null).
export function reduced(panel: Panel, data: PanelData): Reduced[] {
  const calc = panel.options?.reduceOptions?.calcs?.[0] ?? 'lastNotNull';
  return data.frames.map((f, i) => {
    const fc = fieldFor(panel, f);
    const value = reduce(f.values, calc);
    const d = display(fc, value);
    return { name: displayName(fc, f), fc, value, text: d.text, color: d.color ?? valueColor(fc, value, i), values: f.values };
  });
}

function Sparkline({ values, stroke }: { values: (number | null)[]; stroke: string }) {
  const vs = values.filter((v): v is number => v != null);
  if (vs.length < 2) return null;
  const min = Math.min(...vs);
  const max = Math.max(...vs);
  const pts = values
    .map((v, i) => (v == null ? null : `${(i / (values.length - 1)) * 100},${30 - ((v - min) / (max - min || 1)) * 28 - 1}`))
    .filter(Boolean)
    .join(' ');
  return (
    <svg class="spark" viewBox="0 0 100 30" preserveAspectRatio="none">
      <polyline points={`0,30 ${pts} 100,30`} fill={withAlpha(stroke, 0.2)} stroke="none" />
      <polyline points={pts} fill="none" stroke={stroke} stroke-width="1" vector-effect="non-scaling-stroke" />
    </svg>
  );
}

export function StatPanel({ panel, data }: { panel: Panel; data: PanelData }) {
  const items = reduced(panel, data);
  const colorMode = panel.options?.colorMode ?? 'value';
  const graph = panel.options?.graphMode !== 'none' && !data.instant;
  const textMode = panel.options?.textMode ?? 'auto';
  const showName = textMode === 'value_and_name' || textMode === 'name' || (textMode === 'auto' && items.length > 1);
  const horizontal = panel.options?.orientation === 'horizontal';
  return (
    <div class={`stat ${horizontal ? 'horizontal' : ''}`}>
      {items.map((it) => (
        <div
          class="stat-item"
          style={colorMode === 'background' || colorMode === 'background_solid' ? { background: it.color, color: '#fff' } : {}}
        >
          {showName && <div class="stat-name">{it.name}</div>}
          {textMode !== 'name' && textMode !== 'none' && (
            <div class="stat-value" style={colorMode === 'value' ? { color: it.color } : {}}>
              {it.text}
            </div>
          )}
          {graph && <Sparkline values={it.values} stroke={colorMode.startsWith('background') ? '#ffffff' : it.color} />}
        </div>
      ))}
    </div>
  );
}

function arc(cx: number, cy: number, r: number, a0: number, a1: number): string {
  const p = (a: number) => `${cx + r * Math.cos(a)} ${cy + r * Math.sin(a)}`;
  return `M ${p(a0)} A ${r} ${r} 0 ${a1 - a0 > Math.PI ? 1 : 0} 1 ${p(a1)}`;
}

export function GaugePanel({ panel, data }: { panel: Panel; data: PanelData }) {
  const items = reduced(panel, data);
  const start = Math.PI * 0.75;
  const sweep = Math.PI * 1.5;
  return (
    <div class="gauges">
      {items.map((it) => {
        const min = it.fc.min ?? 0;
        const max = it.fc.max ?? 100;
        const frac = it.value == null ? 0 : Math.max(0, Math.min(1, (it.value - min) / (max - min || 1)));
        const steps = it.fc.thresholds?.steps ?? [];
        const pct = it.fc.thresholds?.mode === 'percentage';
        const at = (v: number) => Math.max(0, Math.min(1, pct ? v / 100 : (v - min) / (max - min || 1)));
        return (
          <div class="gauge">
            <svg viewBox="0 0 100 86">
              {panel.options?.showThresholdMarkers !== false &&
                steps.map((s, i) => {
                  const a = s.value == null ? 0 : at(s.value);
                  const b = i + 1 < steps.length && steps[i + 1].value != null ? at(steps[i + 1].value!) : 1;
                  return b > a ? <path d={arc(50, 50, 46, start + sweep * a, start + sweep * b)} stroke={color(s.color)} stroke-width="3" fill="none" /> : null;
                })}
              <path d={arc(50, 50, 38, start, start + sweep)} stroke="#eef0f4" stroke-width="9" fill="none" />
              {frac > 0 && <path d={arc(50, 50, 38, start, start + sweep * Math.max(frac, 0.002))} stroke={it.color} stroke-width="9" fill="none" />}
              <text x="50" y="56" text-anchor="middle" font-size="13" fill={it.color} font-weight="600">
                {it.text}
              </text>
            </svg>
            {items.length > 1 && <div class="gauge-name">{it.name}</div>}
          </div>
        );
      })}
    </div>
  );
}

export function BarGaugePanel({ panel, data }: { panel: Panel; data: PanelData }) {
  const items = reduced(panel, data);
  const vertical = panel.options?.orientation === 'vertical';
  return (
    <div class={`bargauge ${vertical ? 'vertical' : ''}`}>
      {items.map((it) => {
        const min = it.fc.min ?? 0;
        const max = it.fc.max ?? Math.max(100, ...items.map((x) => x.value ?? 0));
        const frac = it.value == null ? 0 : Math.max(0, Math.min(1, (it.value - min) / (max - min || 1)));
        return (
          <div class="bar-row">
            <div class="bar-name">{it.name}</div>
            <div class="bar-track">
              <div class="bar-fill" style={vertical ? { height: `${frac * 100}%`, background: it.color } : { width: `${frac * 100}%`, background: it.color }} />
            </div>
            <div class="bar-value" style={{ color: it.color }}>
              {it.text}
            </div>
          </div>
        );
      })}
    </div>
  );
}

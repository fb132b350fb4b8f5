// Field configuration of Grafana's model: defaults with overrides per
// series (by name, regexp, names list, query), thresholds, value mappings
// and colours (Grafana's named colours and its classic palette).
import { FieldConfig, Panel, ThresholdStep } from './model';
import { Frame } from './data';
import { formatValue } from './units';

const NAMED: Record<string, string> = {
  green: '#73BF69', 'dark-green': '#37872D', 'semi-dark-green': '#56A64B', 'light-green': '#96D98D', 'super-light-green': '#C8F2C2',
  red: '#F2495C', 'dark-red': '#C4162A', 'semi-dark-red': '#E02F44', 'light-red': '#FF7383', 'super-light-red': '#FFA6B0',
  yellow: '#FADE2A', 'dark-yellow': '#E0B400', 'semi-dark-yellow': '#F2CC0C', 'light-yellow': '#FFEE52', 'super-light-yellow': '#FFF899',
  orange: '#FF9830', 'dark-orange': '#FA6400', 'semi-dark-orange': '#FF780A', 'light-orange': '#FFB357', 'super-light-orange': '#FFCB7D',
  blue: '#5794F2', 'dark-blue': '#1F60C4', 'semi-dark-blue': '#3274D9', 'light-blue': '#8AB8FF', 'super-light-blue': '#C0D8FF',
  purple: '#B877D9', 'dark-purple': '#8F3BB8', 'semi-dark-purple': '#A352CC', 'light-purple': '#CA95E5', 'super-light-purple': '#DEB6F2',
  transparent: 'rgba(0,0,0,0)', text: '#464c54',
};

/// Grafana's classic palette, in its order.
export const PALETTE = ['#7EB26D', '#EAB839', '#6ED0E0', '#EF843C', '#E24D42', '#1F78C1', '#BA43A9', '#705DA0', '#508642', '#CCA300', '#447EBC', '#C15C17', '#890F02', '#0A437C', '#6D1F62', '#584477', '#B7DBAB', '#F4D598', '#70DBED', '#F9BA8F', '#F29191', '#82B5D8', '#E5A8E2', '#AEA2E0'];

export function color(c: string | undefined, fallback = '#7EB26D'): string {
  if (!c) return fallback;
  return NAMED[c] ?? c;
}

/// `#rrggbb` (or a named colour) with an opacity from 0 to 1.
export function withAlpha(c: string, a: number): string {
  const hex = color(c);
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const n = parseInt(m[1], 16);
  return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${a})`;
}

function setPath(obj: any, path: string, value: any) {
  const parts = path.split('.');
  let o = obj;
  for (const p of parts.slice(0, -1)) {
    o[p] = o[p] && typeof o[p] === 'object' ? { ...o[p] } : {};
    o = o[p];
  }
  o[parts[parts.length - 1]] = value;
}

function matches(m: { id: string; options?: any }, f: Frame, name: string): boolean {
  switch (m.id) {
    case 'byName':
      return m.options === name || m.options === f.name;
    case 'byRegexp':
      try {
        return new RegExp(`^(?:${m.options})$`).test(name);
      } catch {
        return false;
      }
    case 'byNames': {
      const names: string[] = m.options?.names ?? [];
      const inc = names.includes(name);
      return m.options?.mode === 'exclude' ? !inc : inc;
    }
    case 'byFrameRefID':
      return m.options === f.refId;
    default:
      return false;
  }
}

/// The field config of one series: defaults, then matching overrides.
export function fieldFor(panel: Panel, f: Frame): FieldConfig {
  const out: FieldConfig = JSON.parse(JSON.stringify(panel.fieldConfig?.defaults ?? {}));
  out.custom = out.custom ?? {};
  for (const o of panel.fieldConfig?.overrides ?? []) {
    if (!matches(o.matcher, f, f.name)) continue;
    for (const p of o.properties ?? []) setPath(out, p.id, p.value);
  }
  return out;
}

export function displayName(fc: FieldConfig, f: Frame): string {
  if (!fc.displayName) return f.name;
  return fc.displayName.replace(/\$\{__field\.labels\.(\w+)\}/g, (_, l) => f.labels[l] ?? '').replace(/\$\{__series\.name\}/g, f.name);
}

/// The threshold step a value falls in (the last whose value it reaches).
export function thresholdStep(fc: FieldConfig, v: number | null, min = 0, max = 100): ThresholdStep | null {
  const t = fc.thresholds;
  if (!t?.steps?.length || v == null) return null;
  const x = t.mode === 'percentage' ? ((v - min) / (max - min || 1)) * 100 : v;
  let cur = t.steps[0];
  for (const s of t.steps) if (s.value == null || x >= s.value) cur = s;
  return cur;
}

/// The colour of series `i`: a fixed colour, its threshold (colour mode
/// `thresholds`), or the palette.
export function seriesColor(fc: FieldConfig, i: number, v: number | null = null): string {
  const mode = fc.color?.mode;
  if (mode === 'fixed' || mode === 'shades') return color(fc.color?.fixedColor, PALETTE[i % PALETTE.length]);
  if (mode === 'thresholds') {
    const s = thresholdStep(fc, v, fc.min ?? 0, fc.max ?? 100);
    if (s) return color(s.color);
  }
  return PALETTE[i % PALETTE.length];
}

/// A value as text through the value mappings, then the unit.
export function display(fc: FieldConfig, v: number | null): { text: string; color?: string } {
  for (const m of fc.mappings ?? []) {
    if (m.type === 'value' && v != null) {
      const hit = m.options?.[String(v)];
      if (hit) return { text: hit.text ?? String(v), color: hit.color ? color(hit.color) : undefined };
    }
    if (m.type === 'range' && v != null) {
      const o = m.options ?? {};
      if ((o.from == null || v >= o.from) && (o.to == null || v <= o.to) && o.result) {
        return { text: o.result.text ?? String(v), color: o.result.color ? color(o.result.color) : undefined };
      }
    }
    if (m.type === 'special' && (v == null || Number.isNaN(v)) && ['null', 'nan', 'null+nan'].includes(m.options?.match)) {
      return { text: m.options.result?.text ?? '', color: m.options.result?.color ? color(m.options.result.color) : undefined };
    }
  }
  return { text: formatValue(v, fc.unit, fc.decimals) };
}

// The timeseries panel (and old `graph` panels, which the server migrates
// to it): uPlot lines, bars or points, stacking (normal, percent) by
// group, negative-Y transform, fill, overrides, a legend as a list or a
// table with calcs, and a hover tooltip.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { Panel, FieldConfig } from '../model';
import { PanelData, alignFrames, reduce, CALC_NAMES } from '../data';
import { fieldFor, displayName, seriesColor, withAlpha, thresholdStep, color } from '../fields';
import { formatValue, formatter } from '../units';
import { useSize } from './size';

interface Series {
  name: string;
  fc: FieldConfig;
  color: string;
  raw: (number | null)[];
}

function dash(fc: FieldConfig): number[] | undefined {
  const ls = fc.custom?.lineStyle;
  if (!ls || ls.fill === 'solid') return undefined;
  return ls.dash ?? (ls.fill === 'dot' ? [0, 10] : [10, 10]);
}

/// Stacks series of the same stacking group: normal sums, percent sums
/// and divides by the total at each point.
function stackSeries(series: Series[], n: number): (number | null)[][] {
  const out = series.map((s) => s.raw.slice());
  const groups = new Map<string, number[]>();
  series.forEach((s, i) => {
    const st = s.fc.custom?.stacking;
    if (!st || st.mode === 'none' || !st.mode) return;
    const key = `${st.group ?? 'A'}:${st.mode}:${s.fc.custom?.transform === 'negative-Y' ? '-' : '+'}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  for (const [key, idx] of groups) {
    const percent = key.includes(':percent:');
    const totals = new Array<number>(n).fill(0);
    if (percent) for (const i of idx) for (let j = 0; j < n; j++) totals[j] += Math.abs(series[i].raw[j] ?? 0);
    const acc = new Array<number>(n).fill(0);
    for (const i of idx) {
      for (let j = 0; j < n; j++) {
        const v = series[i].raw[j];
        if (v == null) {
          out[i][j] = null;
          continue;
        }
        acc[j] += percent ? (totals[j] ? v / totals[j] : 0) : v;
        out[i][j] = acc[j];
      }
    }
  }
  return out;
}

/// The indices of values with no value on either side (uPlot's points
/// filter; only those get dots when lines are drawn).
function isolatedPoints(u: uPlot, seriesIdx: number, show: boolean): number[] | null {
  if (!show) return null;
  const ys = u.data[seriesIdx] as (number | null | undefined)[];
  const out: number[] = [];
  for (let i = 0; i < ys.length; i++) {
    if (ys[i] != null && ys[i - 1] == null && ys[i + 1] == null) out.push(i);
  }
  return out;
}

export function TimeSeriesPanel({ panel, data }: { panel: Panel; data: PanelData }) {
  const [host, size] = useSize<HTMLDivElement>();
  const tip = useRef<HTMLDivElement>(null);
  const [hidden, setHidden] = useState<Set<number>>(new Set());
  const legendOpts = panel.options?.legend ?? {};
  const showLegend = legendOpts.showLegend !== false && legendOpts.displayMode !== 'hidden';
  const calcs: string[] = legendOpts.calcs ?? [];
  const table = legendOpts.displayMode === 'table';
  const right = legendOpts.placement === 'right';

  const aligned = alignFrames(data);
  const series: Series[] = [];
  data.frames.forEach((f, i) => {
    const fc = fieldFor(panel, f);
    if (fc.custom?.hideFrom?.viz) return;
    let raw = aligned[i + 1] as (number | null)[];
    if (fc.custom?.transform === 'negative-Y') raw = raw.map((v) => (v == null ? null : -v));
    series.push({ name: displayName(fc, f), fc, color: seriesColor(fc, i, reduce(raw, 'lastNotNull')), raw });
  });
  const defaults = panel.fieldConfig?.defaults ?? {};
  const percentStack = series.some((s) => s.fc.custom?.stacking?.mode === 'percent');
  const unit = percentStack ? 'percentunit' : defaults.unit;

  useEffect(() => {
    const el = host.current;
    if (!el || size.w < 10 || size.h < 10) return;
    const n = aligned[0].length;
    const ys = stackSeries(series, n);
    const fmt = formatter(unit);
    const bars = uPlot.paths.bars!({ size: [0.8, 64] });
    const opts: uPlot.Options = {
      width: size.w,
      height: size.h,
      legend: { show: false },
      cursor: { drag: { x: true, y: false }, points: { size: 6 } },
      scales: {
        x: { time: true },
        y: {
          range: (_u, lo, hi) => {
            const min = percentStack ? 0 : (defaults.min ?? (lo >= 0 && defaults.custom?.axisSoftMin == null ? 0 : lo));
            const max = percentStack ? 1 : (defaults.max ?? hi);
            if (min === max) return [min - 1, max + 1];
            return [min, max];
          },
        },
      },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#eef0f4' }, ticks: { stroke: '#eef0f4' } },
        {
          stroke: '#6b7280',
          grid: { stroke: '#eef0f4' },
          ticks: { stroke: '#eef0f4' },
          // Wide enough for the longest tick label (about 7 px a character).
          size: (_u: uPlot, values: string[]) => Math.max(40, ...(values ?? []).map((v) => v.length * 7 + 16)),
          values: (_u, splits) => splits.map((v) => fmt(Math.abs(v) < 1e-12 ? 0 : v)),
        },
      ],
      series: [
        {},
        ...series.map((s, i) => {
          const c = s.fc.custom ?? {};
          const style = c.drawStyle ?? 'line';
          const fill = c.fillOpacity ?? (panel.type === 'graph' ? 10 : 0);
          return {
            label: s.name,
            stroke: s.color,
            width: c.lineWidth ?? 1,
            dash: dash(s.fc),
            fill: fill > 0 ? withAlpha(s.color, fill / 100) : undefined,
            show: !hidden.has(i),
            spanGaps: c.spanNulls === true,
            paths: style === 'bars' ? bars : style === 'points' ? () => null : undefined,
            points:
              style === 'points' || c.showPoints === 'always'
                ? { show: true, size: c.pointSize ?? 4 }
                : c.showPoints === 'never' || c.spanNulls === true
                  ? { show: false }
                  : // A value with gaps on both sides draws no line: show it
                    // as a dot, as Grafana does, or it would not show at all.
                    { show: true, size: c.pointSize ?? 4, filter: isolatedPoints },
          } as uPlot.Series;
        }),
      ],
      hooks: {
        setCursor: [
          (u: uPlot) => {
            const t = tip.current;
            if (!t) return;
            const idx = u.cursor.idx;
            const mode = panel.options?.tooltip?.mode ?? 'single';
            if (idx == null || mode === 'none' || u.cursor.left! < 0) {
              t.style.display = 'none';
              return;
            }
            const rows = series
              .map((s, i) => ({ s, i, v: s.raw[idx] }))
              .filter((r) => r.v != null && !hidden.has(r.i))
              .sort((a, b) => (b.v as number) - (a.v as number))
              .slice(0, mode === 'single' ? 1 : 12);
            t.innerHTML = '';
            const head = document.createElement('div');
            head.className = 'tip-time';
            head.textContent = new Date(aligned[0][idx] * 1000).toLocaleString();
            t.appendChild(head);
            for (const r of rows) {
              const line = document.createElement('div');
              const sw = document.createElement('span');
              sw.className = 'swatch';
              sw.style.background = r.s.color;
              line.appendChild(sw);
              line.appendChild(document.createTextNode(`${r.s.name}: ${formatValue(r.v, r.s.fc.unit ?? unit, r.s.fc.decimals)}`));
              t.appendChild(line);
            }
            t.style.display = rows.length ? 'block' : 'none';
            const left = u.cursor.left! + 12;
            t.style.left = `${Math.min(left, size.w - 220)}px`;
            t.style.top = `${Math.max(0, u.cursor.top! - 10)}px`;
          },
        ],
        setSelect: [
          (u: uPlot) => {
            if (u.select.width < 2) return;
            const a = u.posToVal(u.select.left, 'x');
            const b = u.posToVal(u.select.left + u.select.width, 'x');
            el.dispatchEvent(new CustomEvent('zoom', { bubbles: true, detail: { fromMs: Math.round(a * 1000), toMs: Math.round(b * 1000) } }));
          },
        ],
        draw: [
          // The y range drawn, for the browser tests (a NaN once left it
          // undefined and the chart empty).
          (u: uPlot) => el.setAttribute('data-y-range', `${u.scales.y.min},${u.scales.y.max}`),
          (u: uPlot) => {
            // Threshold lines (custom.thresholdsStyle.mode line or area).
            const mode = defaults.custom?.thresholdsStyle?.mode;
            if (!mode || mode === 'off') return;
            const ctx = u.ctx;
            for (const st of defaults.thresholds?.steps ?? []) {
              if (st.value == null) continue;
              const y = u.valToPos(st.value, 'y', true);
              ctx.save();
              ctx.strokeStyle = color(st.color);
              ctx.setLineDash([6, 4]);
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.restore();
            }
          },
        ],
      },
    };
    const plot = new uPlot(opts, [aligned[0], ...ys] as uPlot.AlignedData, el);
    return () => plot.destroy();
  }, [data, size.w, size.h, hidden, panel]);

  const toggle = (i: number) => {
    const h = new Set(hidden);
    if (h.has(i)) h.delete(i);
    else h.add(i);
    setHidden(h);
  };

  return (
    <div class={`ts ${right ? 'legend-right' : ''}`}>
      <div class="ts-plot" ref={host}>
        <div class="tip" ref={tip} />
      </div>
      {showLegend && series.length > 0 && (
        <div class="ts-legend">
          {table ? (
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  {calcs.map((c) => (
                    <th>{CALC_NAMES[c] ?? c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {series.map((s, i) => (
                  <tr class={`series ${hidden.has(i) ? 'off' : ''}`} onClick={() => toggle(i)}>
                    <td>
                      <span class="swatch" style={{ background: s.color }} />
                      {s.name}
                    </td>
                    {calcs.map((c) => (
                      <td class="num">{formatValue(reduce(s.raw, c), s.fc.unit ?? unit, s.fc.decimals)}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            series.map((s, i) => (
              <span class={`series ${hidden.has(i) ? 'off' : ''}`} onClick={() => toggle(i)}>
                <span class="swatch" style={{ background: s.color }} />
                {s.name}
                {calcs.map((c) => (
                  <small>
                    {' '}
                    {CALC_NAMES[c] ?? c}: {formatValue(reduce(s.raw, c), s.fc.unit ?? unit, s.fc.decimals)}
                  </small>
                ))}
              </span>
            ))
          )}
        </div>
      )}
    </div>
  );
}

/// The colour of a value by the panel's thresholds (for stat, gauge, bar gauge).
export function valueColor(fc: FieldConfig, v: number | null, i: number): string {
  if ((fc.color?.mode ?? 'thresholds') === 'thresholds') {
    const s = thresholdStep(fc, v, fc.min ?? 0, fc.max ?? 100);
    if (s) return color(s.color);
  }
  return seriesColor(fc, i, v);
}

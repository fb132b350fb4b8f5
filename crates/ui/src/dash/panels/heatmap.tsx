// The heatmap panel over Prometheus histogram buckets: series with an `le`
// label become rows (sorted by bound), cumulative counts are turned into
// per-bucket counts as Grafana does for `format: heatmap`, and each cell is
// coloured by its count. Series without `le` are bucketed by value instead.
import { useEffect, useRef } from 'preact/hooks';
import { Panel } from '../model';
import { PanelData, alignFrames } from '../data';
import { formatValue } from '../units';
import { useSize } from './size';

export interface Heat {
  xs: number[];
  bounds: string[];
  /// cells[row][col]: the count in bucket `row` at time `col`.
  cells: (number | null)[][];
  max: number;
}

export function heatFromBuckets(data: PanelData): Heat | null {
  const aligned = alignFrames(data);
  const xs = aligned[0];
  const withLe = data.frames.map((f, i) => ({ f, col: aligned[i + 1] as (number | null)[] })).filter((x) => x.f.labels.le != null);
  if (!withLe.length) return null;
  // Sum series of equal bound (several instances of one histogram).
  const byLe = new Map<string, (number | null)[]>();
  for (const { f, col } of withLe) {
    const cur = byLe.get(f.labels.le);
    byLe.set(f.labels.le, cur ? cur.map((v, i) => (v == null && col[i] == null ? null : (v ?? 0) + (col[i] ?? 0))) : col.slice());
  }
  const num = (s: string) => (s === '+Inf' ? Infinity : parseFloat(s));
  const bounds = [...byLe.keys()].sort((a, b) => num(a) - num(b));
  const cum = bounds.map((b) => byLe.get(b)!);
  const cells = cum.map((row, r) => row.map((v, c) => (v == null ? null : Math.max(0, v - (r > 0 ? (cum[r - 1][c] ?? 0) : 0)))));
  let max = 0;
  for (const row of cells) for (const v of row) if (v != null && v > max) max = v;
  return { xs, bounds, cells, max };
}

function cellColor(frac: number): string {
  // From pale yellow to dark red (Grafana's "Oranges"/spectrum-like scale).
  const a = [255, 245, 200];
  const b = [180, 20, 30];
  const m = (i: number) => Math.round(a[i] + (b[i] - a[i]) * frac);
  return `rgb(${m(0)},${m(1)},${m(2)})`;
}

export function HeatmapPanel({ panel, data }: { panel: Panel; data: PanelData }) {
  const [host, size] = useSize<HTMLDivElement>();
  const canvas = useRef<HTMLCanvasElement>(null);
  const heat = heatFromBuckets(data);
  useEffect(() => {
    const c = canvas.current;
    if (!c || !heat || size.w < 10) return;
    const dpr = window.devicePixelRatio || 1;
    const left = 70;
    const bottom = 18;
    c.width = size.w * dpr;
    c.height = size.h * dpr;
    c.style.width = `${size.w}px`;
    c.style.height = `${size.h}px`;
    const ctx = c.getContext('2d')!;
    ctx.scale(dpr, dpr);
    ctx.clearRect(0, 0, size.w, size.h);
    const w = (size.w - left) / heat.xs.length;
    const h = (size.h - bottom) / heat.bounds.length;
    heat.cells.forEach((row, r) => {
      row.forEach((v, col) => {
        if (v == null || v <= 0) return;
        ctx.fillStyle = cellColor(Math.sqrt(v / (heat.max || 1)));
        ctx.fillRect(left + col * w, size.h - bottom - (r + 1) * h, Math.ceil(w), Math.ceil(h));
      });
    });
    ctx.fillStyle = '#6b7280';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'right';
    const unit = panel.fieldConfig?.defaults?.unit ?? panel.options?.yAxis?.unit;
    const every = Math.max(1, Math.ceil(heat.bounds.length / Math.max(1, (size.h - bottom) / 16)));
    heat.bounds.forEach((b, r) => {
      if (r % every) return;
      const label = b === '+Inf' ? '+Inf' : formatValue(parseFloat(b), unit);
      ctx.fillText(label, left - 6, size.h - bottom - r * h - h / 2 + 4);
    });
    ctx.textAlign = 'center';
    const ticks = Math.max(2, Math.floor((size.w - left) / 120));
    for (let i = 0; i < ticks; i++) {
      const col = Math.floor((i / ticks) * heat.xs.length);
      const d = new Date(heat.xs[col] * 1000);
      ctx.fillText(d.toTimeString().slice(0, 5), left + col * w + w / 2, size.h - 4);
    }
  }, [data, size.w, size.h]);
  if (!heat) return <div class="panel-msg">No histogram buckets: a heatmap needs series with an <code>le</code> label (e.g. <code>sum by (le) (rate(x_bucket[$__rate_interval]))</code>).</div>;
  return (
    <div class="heatmap" ref={host}>
      <canvas ref={canvas} data-buckets={heat.bounds.length} />
    </div>
  );
}

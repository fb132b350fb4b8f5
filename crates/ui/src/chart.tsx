// A time-series chart with uPlot: one line per series, a legend with
// min/max/avg/last, a hover tooltip (uPlot's cursor and legend) and zoom by
// dragging, which moves the page's time range.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { Series, seriesName } from './api';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/// An exemplar as `/api/v1/query_exemplars` gives it, with the series it
/// belongs to.
export interface Exemplar {
  seriesLabels: Record<string, string>;
  labels: Record<string, string>;
  value: string;
  timestamp: number;
}

/// The trace an exemplar points to (`trace_id`, `traceID` or `traceId`).
export function exemplarTrace(e: Exemplar): string | undefined {
  return e.labels.trace_id ?? e.labels.traceID ?? e.labels.traceId;
}

interface Props {
  series: Series[];
  exemplars?: Exemplar[];
  fromMs: number;
  toMs: number;
  stepS: number;
  stacked: boolean;
  points: boolean;
  onZoom: (fromMs: number, toMs: number) => void;
  /// Pixels; 360 by default.
  height?: number;
  /// Draw bars instead of lines (log volume).
  bars?: boolean;
}

/// Aligns every series on the query's step grid (missing samples are gaps).
export function align(series: Series[], fromMs: number, toMs: number, stepS: number): uPlot.AlignedData {
  const start = Math.floor(fromMs / 1000);
  const n = Math.floor((Math.floor(toMs / 1000) - start) / stepS) + 1;
  const xs = Array.from({ length: n }, (_, i) => start + i * stepS);
  const ys = series.map((s) => {
    const col: (number | null)[] = new Array(n).fill(null);
    for (const [t, v] of s.values ?? []) {
      const i = Math.round((t - start) / stepS);
      if (i >= 0 && i < n) col[i] = parseFloat(v);
    }
    return col;
  });
  return [xs, ...ys] as uPlot.AlignedData;
}

function stack(data: uPlot.AlignedData): uPlot.AlignedData {
  const out: (number | null)[][] = [];
  let acc: number[] = new Array(data[0].length).fill(0);
  for (let s = 1; s < data.length; s++) {
    acc = acc.map((a, i) => a + ((data[s][i] as number | null) ?? 0));
    out.push([...acc]);
  }
  return [data[0], ...out] as uPlot.AlignedData;
}

export interface Stats {
  min: number;
  max: number;
  avg: number;
  last: number;
}

/// Min, max, mean and last value of a column, skipping gaps; null when it
/// has no value.
export function stats(col: (number | null | undefined)[]): Stats | null {
  let min = Infinity, max = -Infinity, sum = 0, n = 0, last = NaN;
  for (const v of col) {
    if (v == null || !isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    n++;
    last = v;
  }
  return n ? { min, max, avg: sum / n, last } : null;
}

export function fmtNumber(v: number | null | undefined): string {
  if (v == null || isNaN(v)) return '';
  return (Math.abs(v) >= 1e6 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : +v.toPrecision(4)).toString();
}

export function Chart({ series, exemplars, fromMs, toMs, stepS, stacked, points, onZoom, height = 360, bars = false }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const legend = useRef<HTMLTableElement>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;

  useEffect(() => {
    const el = host.current!;
    const raw = align(series, fromMs, toMs, stepS);
    const cells = Array.from(legend.current!.querySelectorAll<HTMLElement>('td.value'));
    const data = stacked ? stack(raw) : raw;
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height,
      cursor: { drag: { x: true, y: false } },
      legend: { show: false },
      scales: { x: { time: true } },
      series: [
        {},
        ...series.map((s, i) => ({
          label: seriesName(s.metric),
          stroke: PALETTE[i % PALETTE.length],
          fill: stacked ? PALETTE[i % PALETTE.length] + '40' : undefined,
          width: 1.5,
          points: { show: points },
          paths: points ? () => null : bars ? uPlot.paths.bars!({ size: [0.9, 40] }) : undefined,
          spanGaps: false,
        })),
      ],
      hooks: {
        // The hovered values go into the legend's value column.
        setCursor: [
          (u: uPlot) => {
            const idx = u.cursor.idx;
            cells.forEach((c, i) => (c.textContent = idx == null ? '' : fmtNumber(raw[i + 1][idx] as number | null)));
          },
        ],
        // Exemplars: diamonds at their time and value.
        draw: [
          (u: uPlot) => {
            if (!exemplars?.length) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = '#111827';
            for (const e of exemplars) {
              const x = u.valToPos(e.timestamp, 'x', true);
              const y = u.valToPos(parseFloat(e.value), 'y', true);
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
              const r = 4 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x, y - r);
              ctx.lineTo(x + r, y);
              ctx.lineTo(x, y + r);
              ctx.lineTo(x - r, y);
              ctx.closePath();
              ctx.fill();
            }
            ctx.restore();
          },
        ],
        setSelect: [
          (u: uPlot) => {
            if (u.select.width < 2) return;
            const a = u.posToVal(u.select.left, 'x');
            const b = u.posToVal(u.select.left + u.select.width, 'x');
            zoom.current(Math.round(a * 1000), Math.round(b * 1000));
          },
        ],
      },
    };
    const plot = new uPlot(opts, data, el);
    const resize = () => plot.setSize({ width: Math.max(300, el.clientWidth), height });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [series, exemplars, fromMs, toMs, stepS, stacked, points, height, bars]);

  const cols = align(series, fromMs, toMs, stepS);
  return (
    <div class="chart" data-series={series.length}>
      <div ref={host} />
      <table class="legend" ref={legend}>
        <thead>
          <tr>
            <th>series</th>
            <th>hover</th>
            <th>min</th>
            <th>max</th>
            <th>avg</th>
            <th>last</th>
          </tr>
        </thead>
        <tbody>
          {series.map((s, i) => {
            const st = stats(cols[i + 1] as (number | null)[]);
            return (
              <tr class="series">
                <td>
                  <span class="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
                  {seriesName(s.metric)}
                </td>
                <td class="value" />
                <td>{fmtNumber(st?.min)}</td>
                <td>{fmtNumber(st?.max)}</td>
                <td>{fmtNumber(st?.avg)}</td>
                <td>{fmtNumber(st?.last)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

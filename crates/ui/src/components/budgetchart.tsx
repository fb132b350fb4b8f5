// The error budget burn-down: one line of the percent of budget left, on a
// fixed 0-100 scale (below 0 when overspent) so that a budget barely
// touched reads as barely touched, not as a cliff on an auto-zoomed axis.
// The shared Chart (chart.tsx) zooms its axes to the data, which suits
// Explore; hence this small one.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { fmtNumber, stats } from '../chart';

interface Props {
  /// `[seconds, percent]`, on a regular grid.
  values: [number, number][];
  fromMs: number;
  toMs: number;
}

export function BudgetChart({ values, fromMs, toMs }: Props) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current!;
    const xs = values.map((v) => v[0]);
    const ys = values.map((v) => v[1]);
    const low = Math.min(0, ...ys);
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: 260,
      legend: { show: false },
      scales: {
        x: { time: true, range: () => [fromMs / 1000, toMs / 1000] },
        y: { range: () => [low, 100] },
      },
      axes: [{}, { size: 56, values: (_u, ticks) => ticks.map((t) => `${t}%`) }],
      series: [
        {},
        {
          label: 'budget left %',
          stroke: '#2563eb',
          fill: '#2563eb18',
          width: 2,
          // A line needs two points: right after start there may be one.
          points: { show: values.length < 3 },
        },
      ],
    };
    const plot = new uPlot(opts, [xs, ys], el);
    const resize = () => plot.setSize({ width: Math.max(300, el.clientWidth), height: 260 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [values, fromMs, toMs]);
  const st = stats(values.map((v) => v[1]));
  return (
    <div class="chart" data-series={1}>
      <div ref={host} />
      <table class="legend">
        <thead>
          <tr>
            <th>series</th>
            <th>min</th>
            <th>max</th>
            <th>last</th>
          </tr>
        </thead>
        <tbody>
          <tr class="series">
            <td>
              <span class="swatch" style={{ background: '#2563eb' }} />
              budget left %
            </td>
            <td>{fmtNumber(st?.min)}</td>
            <td>{fmtNumber(st?.max)}</td>
            <td>{fmtNumber(st?.last)}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

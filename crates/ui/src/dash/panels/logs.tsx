// Grafana's logs panel: the lines of the panel's LogQL log queries with
// its options (time shown, wrapping, order, details on click, unique
// labels, de-duplication of consecutive lines as Grafana's dedup
// strategies do it).
import { Panel } from '../model';
import { PanelData } from '../data';
import { LogLine, LogList } from '../../components/loglines';

/// The key two lines are compared by under a dedup strategy: `exact`
/// the whole line, `numbers` the line without its numbers, `signature`
/// only its punctuation and spaces (letters and digits removed).
function dedupKey(line: string, strategy: string): string {
  switch (strategy) {
    case 'numbers':
      return line.replace(/\d+(?:\.\d+)?/g, '');
    case 'signature':
      return line.replace(/\w/g, '');
    default:
      return line;
  }
}

/// Consecutive lines equal under the strategy as one, with their count.
export function dedupLines(lines: LogLine[], strategy: string): { line: LogLine; count: number }[] {
  const out: { line: LogLine; count: number; key: string }[] = [];
  for (const l of lines) {
    const key = dedupKey(l.line, strategy);
    const last = out[out.length - 1];
    if (strategy !== 'none' && last && last.key === key) last.count++;
    else out.push({ line: l, count: 1, key });
  }
  return out;
}

export function LogsPanel({ panel, data }: { panel: Panel; data: PanelData }) {
  const o = panel.options ?? {};
  const ascending = o.sortOrder === 'Ascending';
  const ordered = ascending ? [...data.logs].reverse() : data.logs;
  const strategy = o.dedupStrategy ?? 'none';
  const groups = dedupLines(ordered, strategy);
  const lines = groups.map((g) => (g.count > 1 ? { ...g.line, line: `${g.line.line}  (×${g.count})` } : g.line));
  const query = panel.targets?.find((t) => !t.hide && t.expr)?.expr ?? '';
  return (
    <div class="logs-panel">
      {strategy !== 'none' && groups.length < ordered.length && (
        <div class="hint">
          {ordered.length - groups.length} duplicate lines hidden ({strategy})
        </div>
      )}
      <LogList
        lines={lines}
        query={query}
        fromMs={data.startS * 1000}
        toMs={data.endS * 1000}
        showTime={o.showTime ?? false}
        wrap={o.wrapLogMessage ?? false}
        details={o.enableLogDetails ?? true}
        showLabels={o.showLabels ?? false}
      />
    </div>
  );
}

// The table panel: one row per series with its labels as columns and its
// value (reduced over the range), or Grafana's `format: table` shape with
// one `Value #<refId>` column per query, rows joined on their labels.
import { Panel } from '../model';
import { PanelData, reduce } from '../data';
import { fieldFor, display } from '../fields';

export function TablePanel({ panel, data }: { panel: Panel; data: PanelData }) {
  const calc = panel.options?.reduceOptions?.calcs?.[0] ?? 'lastNotNull';
  const refIds = [...new Set(data.frames.map((f) => f.refId))];
  const labelCols = [...new Set(data.frames.flatMap((f) => Object.keys(f.labels)))].sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b)));
  // Rows joined on the label set: queries of one table share rows.
  const rows = new Map<string, { labels: Record<string, string>; values: Record<string, { text: string; color?: string; v: number | null }> }>();
  for (const f of data.frames) {
    const key = labelCols.map((l) => f.labels[l] ?? '').join('\u0000');
    const row = rows.get(key) ?? { labels: f.labels, values: {} };
    const v = reduce(f.values, calc);
    const d = display(fieldFor(panel, f), v);
    row.values[f.refId] = { ...d, v };
    rows.set(key, row);
  }
  const valueCols = refIds.length > 1 ? refIds.map((r) => `Value #${r}`) : ['Value'];
  const [sortCol, sortDesc] = [panel.options?.sortBy?.[0]?.displayName as string | undefined, panel.options?.sortBy?.[0]?.desc as boolean | undefined];
  let list = [...rows.values()];
  if (sortCol) {
    const ref = refIds[valueCols.indexOf(sortCol)];
    list = list.sort((a, b) => {
      const x = ref ? (a.values[ref]?.v ?? -Infinity) : (a.labels[sortCol] ?? '');
      const y = ref ? (b.values[ref]?.v ?? -Infinity) : (b.labels[sortCol] ?? '');
      return (x < y ? -1 : x > y ? 1 : 0) * (sortDesc ? -1 : 1);
    });
  }
  return (
    <div class="table-panel">
      <table class="result">
        <thead>
          <tr>
            {labelCols.map((c) => (
              <th>{c}</th>
            ))}
            {valueCols.map((c) => (
              <th class="num">{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {list.map((r) => (
            <tr>
              {labelCols.map((c) => (
                <td>{r.labels[c] ?? ''}</td>
              ))}
              {refIds.map((ref) => (
                <td class="num" style={r.values[ref]?.color ? { color: r.values[ref].color } : {}}>
                  {r.values[ref]?.text ?? ''}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

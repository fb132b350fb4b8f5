// TSDB status, as Prometheus's /tsdb-status: head block statistics and
// the highest-cardinality metric names, label names and pairs.
import { Pending, useJson, utc } from '../../components/data';

interface Row {
  name: string;
  value: number;
}

interface Tsdb {
  headStats: { numSeries: number; numLabelPairs: number; chunkCount: number; minTime: number; maxTime: number };
  seriesCountByMetricName: Row[];
  labelValueCountByLabelName: Row[];
  memoryInBytesByLabelName: Row[];
  seriesCountByLabelValuePair: Row[];
}

const TABLES: [keyof Tsdb, string, string][] = [
  ['seriesCountByMetricName', 'Top series count by metric name', 'Series'],
  ['labelValueCountByLabelName', 'Top label names by value count', 'Values'],
  ['memoryInBytesByLabelName', 'Top label names by memory used', 'Bytes'],
  ['seriesCountByLabelValuePair', 'Top series count by label value pair', 'Series'],
];

export function TsdbView() {
  const t = useJson<Tsdb>('api/v1/status/tsdb');
  if (!t.data) return <Pending l={t} />;
  const h = t.data.headStats;
  const time = (ms: number) => (Math.abs(ms) >= 9e15 ? 'none' : utc(ms));
  return (
    <div class="tsdb">
      <h3>Head block</h3>
      <table class="result kv head-stats">
        <tbody>
          <tr data-key="numSeries">
            <th>Series</th>
            <td>{h.numSeries}</td>
          </tr>
          <tr data-key="chunkCount">
            <th>Chunks</th>
            <td>{h.chunkCount}</td>
          </tr>
          <tr data-key="numLabelPairs">
            <th>Label pairs</th>
            <td>{h.numLabelPairs}</td>
          </tr>
          <tr data-key="minTime">
            <th>Earliest sample</th>
            <td>{time(h.minTime)}</td>
          </tr>
          <tr data-key="maxTime">
            <th>Latest sample</th>
            <td>{time(h.maxTime)}</td>
          </tr>
        </tbody>
      </table>
      <div class="tsdb-tables">
        {TABLES.map(([key, title, col]) => (
          <div>
            <h3>{title}</h3>
            <table class="result tsdb-table" data-key={key}>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>{col}</th>
                </tr>
              </thead>
              <tbody>
                {(t.data![key] as Row[]).map((r) => (
                  <tr>
                    <td class="name">{r.name}</td>
                    <td class="value">{r.value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      </div>
    </div>
  );
}

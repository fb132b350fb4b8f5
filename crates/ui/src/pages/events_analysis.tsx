// The Events section's analyses: funnels, retention cohorts and A/B tests
// (the shell and the other tabs are in events.tsx).
import { useState } from 'preact/hooks';
import { Pick, Range, Shown, Text, day, pct, useAnswer, useNames, useProperties } from './events';

interface StepResult {
  event: string;
  people: number;
  conversion_from_previous: number;
  conversion_from_first: number;
  median_seconds_from_previous: number | null;
}

/// Seconds as the funnel table prints them.
export function fmtSeconds(s: number | null): string {
  if (s == null) return '-';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${(s / 60).toFixed(1)}m`;
  if (s < 86400) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86400).toFixed(1)}d`;
}

export function FunnelsTab({ range }: { range: Range }) {
  const names = useNames(range);
  const [steps, setSteps] = useState<string[]>([]);
  const [window, setWindow] = useState('14d');
  const [breakdown, setBreakdown] = useState('');
  // Until chosen: the two most frequent events.
  const shown = steps.length ? steps : names.slice(0, 2);
  const props = useProperties(range, shown[0] ?? '');
  const a = useAnswer<{ steps: StepResult[]; breakdowns: { value: string | null; other: boolean; steps: StepResult[] }[] }>(
    'funnel',
    shown.length && shown.every((s) => s)
      ? { start: range.start, end: range.end, window, steps: shown.map((event) => ({ event })), breakdown: breakdown || null, limit: 6 }
      : null,
  );
  const setStep = (i: number, v: string) => setSteps(shown.map((s, j) => (j === i ? v : s)));
  return (
    <section>
      <div class="vars funnel-steps">
        {shown.map((s, i) => (
          <span class="funnel-step">
            <Pick label={`Step ${i + 1}`} value={s} options={names} onChange={(v) => setStep(i, v)} />
            {shown.length > 1 && (
              <button title="Remove this step" onClick={() => setSteps(shown.filter((_, j) => j !== i))}>
                ×
              </button>
            )}
          </span>
        ))}
        <button onClick={() => setSteps([...shown, names[0] ?? ''])}>+ step</button>
      </div>
      <div class="vars">
        <Text label="Conversion window" value={window} onChange={setWindow} />
        <Pick label="Breakdown" value={breakdown} options={props} onChange={setBreakdown} blank="none" />
      </div>
      <Shown a={a} empty={(d) => d.steps[0].people === 0}>
        {(d) => (
          <>
            <FunnelBars steps={d.steps} />
            <FunnelTable steps={d.steps} />
            {d.breakdowns.length > 0 && (
              <table class="result funnel-breakdown">
                <thead>
                  <tr>
                    <th>{breakdown}</th>
                    {d.steps.map((s, i) => (
                      <th class="num">
                        {i + 1}. {s.event}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {d.breakdowns.map((b) => (
                    <tr>
                      <td>{b.value ?? '(none)'}</td>
                      {b.steps.map((s) => (
                        <td class="num">
                          {s.people} ({pct(s.conversion_from_first)})
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </Shown>
    </section>
  );
}

function FunnelBars({ steps }: { steps: StepResult[] }) {
  return (
    <div class="funnel-bars">
      {steps.map((s, i) => (
        <div class="funnel-bar-row">
          <span class="funnel-bar-label">
            {i + 1}. {s.event}
          </span>
          <span class="funnel-bar-track">
            <span class="funnel-bar" style={{ width: `${(s.conversion_from_first * 100).toFixed(1)}%` }} />
          </span>
          <span class="funnel-bar-value">{pct(s.conversion_from_first)}</span>
        </div>
      ))}
    </div>
  );
}

function FunnelTable({ steps }: { steps: StepResult[] }) {
  return (
    <table class="result funnel">
      <thead>
        <tr>
          <th>step</th>
          <th class="num">people</th>
          <th class="num">from previous</th>
          <th class="num">from first</th>
          <th class="num">median time from previous</th>
        </tr>
      </thead>
      <tbody>
        {steps.map((s, i) => (
          <tr>
            <td>
              {i + 1}. {s.event}
            </td>
            <td class="num">{s.people}</td>
            <td class="num">{pct(s.conversion_from_previous)}</td>
            <td class="num">{pct(s.conversion_from_first)}</td>
            <td class="num">{fmtSeconds(s.median_seconds_from_previous)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface Cohort {
  start_ms: number;
  size: number;
  retained: number[];
  share: number[];
}

export function RetentionTab({ range }: { range: Range }) {
  const names = useNames(range);
  const [cohortEvent, setCohortEvent] = useState('');
  const [returnEvent, setReturnEvent] = useState('');
  const [period, setPeriod] = useState('day');
  const ce = cohortEvent || names[0] || '';
  const re = returnEvent || ce;
  const a = useAnswer<{ cohorts: Cohort[] }>(
    'retention',
    ce ? { start: range.start, end: range.end, cohort_event: ce, return_event: re, period } : null,
  );
  return (
    <section>
      <div class="vars">
        <Pick label="Cohort: first" value={ce} options={names} onChange={setCohortEvent} />
        <Pick label="Came back: did" value={re} options={names} onChange={setReturnEvent} />
        <Pick label="Period" value={period} options={['day', 'week']} onChange={setPeriod} />
      </div>
      <p class="hint">A cohort is the people whose first {ce} in the range fell in that {period}; each cell is the share of them who did {re} in the {period} that many {period}s later.</p>
      <Shown a={a} empty={(d) => d.cohorts.every((c) => c.size === 0)}>
        {(d) => {
          const n = Math.max(...d.cohorts.map((c) => c.retained.length));
          return (
            <table class="result retention">
              <thead>
                <tr>
                  <th>cohort</th>
                  <th class="num">people</th>
                  {Array.from({ length: n }, (_, k) => (
                    <th class="num">
                      {period} {k}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {d.cohorts.map((c) => (
                  <tr>
                    <td>{day(c.start_ms)}</td>
                    <td class="num">{c.size}</td>
                    {Array.from({ length: n }, (_, k) =>
                      k < c.share.length && c.size > 0 ? (
                        <td class="num cell-share" style={{ background: `rgba(31, 119, 180, ${(0.08 + 0.85 * c.share[k]).toFixed(3)})`, color: c.share[k] > 0.55 ? '#fff' : undefined }} title={`${c.retained[k]} of ${c.size}`}>
                          {pct(c.share[k])}
                        </td>
                      ) : (
                        <td />
                      ),
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Shown>
    </section>
  );
}

interface Variant {
  variant: string;
  exposed: number;
  converted: number;
  rate: number;
  ci_low: number;
  ci_high: number;
  uplift: number | null;
  z: number | null;
  p_value: number | null;
  significant: boolean | null;
}

/// A p-value as the table prints it (events.mjs prints the API's the same way).
export const fmtP = (p: number | null) => (p == null ? '-' : p < 0.0001 ? '< 0.0001' : p.toFixed(4));

/// The sentence under the variants table.
export function verdict(control: Variant, v: Variant, alpha: number): string {
  const p = v.p_value == null ? '' : v.p_value < 0.0001 ? 'p < 0.0001' : `p = ${v.p_value.toFixed(4)}`;
  if (v.significant)
    return `${v.variant} converts ${pct(v.rate, 2)} against ${pct(control.rate, 2)} for ${control.variant}: the difference is significant at ${alpha * 100}% (${p}).`;
  return `${v.variant} converts ${pct(v.rate, 2)} against ${pct(control.rate, 2)} for ${control.variant}: the difference is not significant at ${alpha * 100}% (${p}); it could be chance.`;
}

export function AbTestTab({ range }: { range: Range }) {
  const names = useNames(range);
  const [exposure, setExposure] = useState('');
  const [variantKey, setVariantKey] = useState('');
  const [conversion, setConversion] = useState('');
  const [window, setWindow] = useState('14d');
  const ex = exposure || names.find((n) => /expos|experiment|variant/i.test(n)) || names[0] || '';
  const props = useProperties(range, ex);
  const vk = variantKey || props.find((p) => /variant|group|arm/i.test(p)) || props[0] || '';
  const cv = conversion || names.find((n) => n !== ex) || '';
  const a = useAnswer<{ control: string; variants: Variant[]; mixed_exposures: number; alpha: number }>(
    'abtest',
    ex && vk && cv ? { start: range.start, end: range.end, exposure_event: ex, variant_property: vk, conversion_event: cv, window } : null,
  );
  return (
    <section>
      <div class="vars">
        <Pick label="Exposure event" value={ex} options={names} onChange={setExposure} />
        <Pick label="Variant property" value={vk} options={props} onChange={setVariantKey} />
        <Pick label="Conversion event" value={cv} options={names} onChange={setConversion} />
        <Text label="Window" value={window} onChange={setWindow} />
      </div>
      <Shown a={a} empty={(d) => !d.variants.length}>
        {(d) => (
          <>
            <table class="result abtest">
              <thead>
                <tr>
                  <th>variant</th>
                  <th class="num">exposed</th>
                  <th class="num">converted</th>
                  <th class="num">rate</th>
                  <th class="num">95% interval</th>
                  <th class="num">uplift</th>
                  <th class="num">p-value</th>
                </tr>
              </thead>
              <tbody>
                {d.variants.map((v) => (
                  <tr class={v.significant ? 'significant' : ''}>
                    <td>
                      {v.variant}
                      {v.variant === d.control && <span class="tag">control</span>}
                    </td>
                    <td class="num">{v.exposed}</td>
                    <td class="num">{v.converted}</td>
                    <td class="num">{pct(v.rate, 2)}</td>
                    <td class="num">
                      {pct(v.ci_low, 2)} – {pct(v.ci_high, 2)}
                    </td>
                    <td class="num">{v.uplift == null ? '-' : `${v.uplift >= 0 ? '+' : ''}${pct(v.uplift)}`}</td>
                    <td class="num">{fmtP(v.p_value)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <ul class="verdicts">
              {d.variants
                .filter((v) => v.variant !== d.control)
                .map((v) => (
                  <li class={v.significant ? 'verdict significant' : 'verdict'}>{verdict(d.variants[0], v, d.alpha)}</li>
                ))}
            </ul>
            {d.mixed_exposures > 0 && <p class="hint">{d.mixed_exposures} people saw more than one variant and are left out.</p>}
            <p class="hint">
              Decide the sample size before the test and read the result once: looking every day and stopping at the first p &lt; 0.05 finds differences that are not there (docs/events-analytics.md).
            </p>
          </>
        )}
      </Shown>
    </section>
  );
}

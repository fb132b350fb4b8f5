// TraceQL in the editor: Grafana's lezer grammar (@grafana/lezer-traceql,
// Apache-2.0) for highlighting, and completion from Tempo's tag API:
// scopes and intrinsics inside `{ }`, attribute names after `resource.`,
// `span.` or `.` (`/api/v2/search/tags`), values after a comparison
// (`/api/v2/search/tag/NAME/values`), functions after `|`.
import { LRLanguage, LanguageSupport } from '@codemirror/language';
import { styleTags, tags as t } from '@lezer/highlight';
import { CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import { parser } from '@grafana/lezer-traceql';

const language = LRLanguage.define({
  parser: parser.configure({
    props: [
      styleTags({
        String: t.string,
        'Integer Float Duration': t.number,
        Static: t.literal,
        IntrinsicField: t.keyword,
        'AttributeField Identifier': t.propertyName,
        'Resource Span Event Link Instrumentation Parent': t.namespace,
        'FieldOp ScalarOp ComparisonOp': t.operator,
        'And Or Gt Lt Desc Anc Pipe': t.operator,
        'Aggregate GroupOperation SelectOperation CoalesceOperation MetricsOverTimeType MetricsOperationBasicType': t.function(t.variableName),
        'LineComment BlockComment': t.comment,
      }),
    ],
  }),
  languageData: { commentTokens: { line: '//' } },
});

const INTRINSICS = ['name', 'status', 'kind', 'duration', 'statusMessage', 'rootName', 'rootServiceName', 'traceDuration', 'span:id', 'trace:id', 'event:name', 'link:traceID', 'instrumentation:name'];
const SCOPES = ['resource.', 'span.', 'event.', 'link.', 'instrumentation.', '.'];
const PIPELINE = ['count()', 'avg(duration)', 'min(duration)', 'max(duration)', 'sum(duration)', 'by()', 'select()', 'coalesce()', 'rate()', 'count_over_time()', 'quantile_over_time(duration, .99)', 'histogram_over_time(duration)'];

async function tempoJSON(path: string): Promise<any> {
  try {
    const r = await fetch(path);
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

async function tagNames(scope: string): Promise<string[]> {
  const j = await tempoJSON(`api/v2/search/tags?scope=${scope === '' ? 'all' : scope}`);
  const names = new Set<string>();
  for (const s of j?.scopes ?? []) if (s.name !== 'intrinsic') for (const t of s.tags) names.add(t);
  return [...names].sort();
}

async function complete(ctx: CompletionContext): Promise<CompletionResult | null> {
  const before = ctx.state.sliceDoc(0, ctx.pos);
  const inFilter = before.lastIndexOf('{') > before.lastIndexOf('}');
  const value = /((?:resource|span|event|link|instrumentation)?\.[\w.]+|\b(?:name|status|kind|rootName|rootServiceName))\s*(=|!=|=~|!~)\s*"?([^"]*)$/.exec(before);
  if (inFilter && value) {
    const j = await tempoJSON(`api/v2/search/tag/${encodeURIComponent(value[1])}/values`);
    const vals: { type: string; value: string }[] = j?.tagValues ?? [];
    const quoted = /"[^"]*$/.test(before);
    return {
      from: ctx.pos - value[3].length,
      options: vals.map((v) => ({ label: v.type === 'string' && !quoted ? `"${v.value}"` : v.value, type: 'text' })),
      validFor: /^[^"\s]*$/,
    };
  }
  const attr = /\b(resource|span|event|link|instrumentation)?\.([\w.]*)$/.exec(before);
  if (inFilter && attr) {
    const names = await tagNames(attr[1] ?? '');
    return { from: ctx.pos - attr[2].length, options: names.map((n) => ({ label: n, type: 'property' })), validFor: /^[\w.]*$/ };
  }
  const word = ctx.matchBefore(/[\w:]+/);
  const from = word ? word.from : ctx.pos;
  if (!word && !ctx.explicit && !/[{|&]\s*$/.test(before)) return null;
  if (inFilter) {
    return {
      from,
      options: [...INTRINSICS.map((i) => ({ label: i, type: 'keyword' })), ...SCOPES.map((s) => ({ label: s, type: 'namespace' }))],
      validFor: /^[\w:]*$/,
    };
  }
  if (/\|\s*[\w]*$/.test(before)) return { from, options: PIPELINE.map((f) => ({ label: f, type: 'function' })), validFor: /^\w*$/ };
  return null;
}

export function traceql(): LanguageSupport {
  return new LanguageSupport(language, [language.data.of({ autocomplete: complete })]);
}

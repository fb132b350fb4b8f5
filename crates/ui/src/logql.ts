// LogQL in the editor: Grafana's lezer grammar (@grafana/lezer-logql,
// Apache-2.0) for highlighting, and completion of label names and values
// from Loki's API (`/loki/api/v1/labels`, `/label/NAME/values`) inside a
// stream selector, of parsers and stages after `|`, and of functions.
import { LRLanguage, LanguageSupport } from '@codemirror/language';
import { styleTags, tags as t } from '@lezer/highlight';
import { CompletionContext, CompletionResult } from '@codemirror/autocomplete';
import { parser } from '@grafana/lezer-logql';

const language = LRLanguage.define({
  parser: parser.configure({
    props: [
      styleTags({
        String: t.string,
        Number: t.number,
        Duration: t.number,
        Bytes: t.number,
        Identifier: t.labelName,
        LineComment: t.lineComment,
        'Json Logfmt Unpack Pattern Regexp Unwrap LabelFormat LineFormat Decolorize Drop Keep': t.keyword,
        'By Without On Ignoring GroupLeft GroupRight Bool Offset And Or Unless': t.operatorKeyword,
        'Sum Avg Count Max Min Stddev Stdvar Bottomk Topk Sort Sort_Desc LabelReplace Vector': t.function(t.variableName),
        'CountOverTime Rate RateCounter BytesOverTime BytesRate AvgOverTime SumOverTime MinOverTime MaxOverTime StddevOverTime StdvarOverTime QuantileOverTime FirstOverTime LastOverTime AbsentOverTime': t.function(t.variableName),
        'PipeExact PipeMatch PipePattern Npa Neq Re Nre Eq': t.operator,
        Pipe: t.operator,
      }),
    ],
  }),
  languageData: { commentTokens: { line: '#' } },
});

const FUNCTIONS = ['rate', 'count_over_time', 'bytes_rate', 'bytes_over_time', 'absent_over_time', 'rate_counter', 'sum_over_time', 'avg_over_time', 'min_over_time', 'max_over_time', 'stddev_over_time', 'stdvar_over_time', 'quantile_over_time', 'first_over_time', 'last_over_time', 'sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'sort', 'sort_desc', 'label_replace', 'vector'];
const STAGES = ['json', 'logfmt', 'regexp', 'pattern', 'unpack', 'line_format', 'label_format', 'drop', 'keep', 'decolorize', 'unwrap'];

async function lokiList(path: string): Promise<string[]> {
  try {
    const r = await fetch(path);
    const j = await r.json();
    return Array.isArray(j.data) ? j.data : [];
  } catch {
    return [];
  }
}

/// Completion by where the cursor is: after `{` or `,` inside a selector,
/// a label name; after `name="`, its values; after `| `, a stage; else a
/// function.
async function complete(ctx: CompletionContext): Promise<CompletionResult | null> {
  const before = ctx.state.sliceDoc(0, ctx.pos);
  const open = before.lastIndexOf('{');
  const inSelector = open > before.lastIndexOf('}');
  const value = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)$/.exec(before);
  if (inSelector && value) {
    const values = await lokiList(`loki/api/v1/label/${encodeURIComponent(value[1])}/values`);
    return { from: ctx.pos - value[3].length, options: values.map((v) => ({ label: v, type: 'text' })), validFor: /^[^"]*$/ };
  }
  const word = ctx.matchBefore(/[a-zA-Z_][a-zA-Z0-9_]*/);
  const from = word ? word.from : ctx.pos;
  if (!word && !ctx.explicit && !/[{,|]\s*$/.test(before)) return null;
  if (inSelector) {
    const names = await lokiList('loki/api/v1/labels');
    return { from, options: names.map((n) => ({ label: n, type: 'property' })), validFor: /^[a-zA-Z0-9_]*$/ };
  }
  if (/\|\s*[a-zA-Z_]*$/.test(before)) {
    return { from, options: STAGES.map((s) => ({ label: s, type: 'keyword' })), validFor: /^[a-zA-Z_]*$/ };
  }
  return { from, options: FUNCTIONS.map((f) => ({ label: f, type: 'function' })), validFor: /^[a-zA-Z_]*$/ };
}

export function logql(): LanguageSupport {
  return new LanguageSupport(language, [language.data.of({ autocomplete: complete })]);
}

// Alertmanager's matchers as the UI handles them: the `{a="b",c=~"d"}`
// sets of its URLs (`#/alerts?filter=...`, `#/silences/new?filter=...`)
// and the API's `{name, value, isRegex, isEqual}` objects.

export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export const OPS = ['=', '!=', '=~', '!~'] as const;
export type Op = (typeof OPS)[number];

export function opOf(m: Matcher): Op {
  return m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
}

export function withOp(m: Matcher, op: Op): Matcher {
  return { ...m, isRegex: op.endsWith('~'), isEqual: op.startsWith('=') };
}

function quote(v: string): string {
  return JSON.stringify(v);
}

/// One matcher in Alertmanager's syntax, `name="value"`.
export function formatMatcher(m: Matcher): string {
  return `${m.name}${opOf(m)}${quote(m.value)}`;
}

/// A set as Alertmanager's URLs write it: `{a="b", c=~"d"}`.
export function formatMatchers(ms: Matcher[]): string {
  return `{${ms.map(formatMatcher).join(', ')}}`;
}

/// Parses `{a="b", c=~"d"}` (braces optional, values quoted or bare);
/// throws an Error naming the offending part.
export function parseMatchers(text: string): Matcher[] {
  let s = text.trim();
  if (s.startsWith('{')) {
    if (!s.endsWith('}')) throw new Error(`matchers ${JSON.stringify(text)}: missing closing "}"`);
    s = s.slice(1, -1);
  }
  const out: Matcher[] = [];
  let i = 0;
  const skip = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  while (true) {
    skip();
    if (i >= s.length) break;
    const nameStart = i;
    while (i < s.length && /[^\s=!~,]/.test(s[i])) i++;
    const name = s.slice(nameStart, i).replace(/^"|"$/g, '');
    skip();
    const op = (['=~', '!~', '!=', '='] as Op[]).find((o) => s.startsWith(o, i));
    if (!name || !op) throw new Error(`matchers ${JSON.stringify(text)}: expected name and operator at "${s.slice(nameStart, nameStart + 20)}"`);
    i += op.length;
    skip();
    let value = '';
    if (s[i] === '"') {
      let j = i + 1;
      let esc = false;
      for (; j < s.length; j++) {
        if (esc) esc = false;
        else if (s[j] === '\\') esc = true;
        else if (s[j] === '"') break;
      }
      if (j >= s.length) throw new Error(`matchers ${JSON.stringify(text)}: unterminated quoted value of ${name}`);
      try {
        value = JSON.parse(s.slice(i, j + 1));
      } catch {
        value = s.slice(i + 1, j);
      }
      i = j + 1;
    } else {
      const start = i;
      while (i < s.length && s[i] !== ',') i++;
      value = s.slice(start, i).trim();
    }
    out.push(withOp({ name, value, isRegex: false, isEqual: true }, op));
    skip();
    if (i < s.length) {
      if (s[i] !== ',') throw new Error(`matchers ${JSON.stringify(text)}: expected "," at "${s.slice(i, i + 20)}"`);
      i++;
    }
  }
  return out;
}

/// The query string the API wants: one `filter=` per matcher.
export function filterParams(ms: Matcher[], p = new URLSearchParams()): URLSearchParams {
  for (const m of ms) p.append('filter', formatMatcher(m));
  return p;
}

/// Equality matchers for every label of an alert (a silence's starting point).
export function matchersOf(labels: Record<string, string>): Matcher[] {
  return Object.keys(labels)
    .sort()
    .map((name) => ({ name, value: labels[name], isRegex: false, isEqual: true }));
}

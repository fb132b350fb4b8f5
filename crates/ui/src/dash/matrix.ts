// A fast reader of `query_range` answers for dashboards: it scans the
// JSON text for each series' `metric` and `values` and reads the numbers
// straight into typed arrays, instead of JSON.parse building a two-element
// array and a string per sample (a 12-panel dashboard of 1,000 series at
// 1,000 points is a million of each, and most of its load time). Anything it
// does not expect (histograms, another result type, an error answer) makes it
// return null, and the caller parses the JSON as usual.

export interface MatrixSeries {
  metric: Record<string, string>;
  /// Seconds since the epoch.
  times: number[];
  values: number[];
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/// The decimal number in `t[from, to)` without making a substring: up to
/// 15 significant digits and no exponent, the integer mantissa and the
/// power of ten are exact doubles, so one division gives the correctly
/// rounded value, the same as Number(); anything else goes to Number().
function readNum(t: string, from: number, to: number): number {
  let i = from;
  let neg = false;
  const c0 = t.charCodeAt(i);
  if (c0 === 45 /* - */) {
    neg = true;
    i++;
  } else if (c0 === 43 /* + */) i++;
  let mant = 0;
  let digits = 0;
  let frac = -1;
  for (; i < to; i++) {
    const c = t.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mant = mant * 10 + (c - 48);
      if (mant !== 0 || digits) digits++;
      if (frac >= 0) frac++;
    } else if (c === 46 /* . */ && frac < 0) frac = 0;
    else return sampleValue(t.slice(from, to));
  }
  if (digits > 15 || i === from) return sampleValue(t.slice(from, to));
  const v = frac > 0 ? mant / POW10[frac] : mant;
  return neg ? -v : v;
}

function sampleValue(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

/// The end of the JSON value (an object or a string) starting at `i`:
/// strings are skipped with their escapes, braces counted outside them.
function endOfObject(t: string, i: number): number {
  let depth = 0;
  for (let k = i; k < t.length; k++) {
    const c = t.charCodeAt(k);
    if (c === 34 /* " */) {
      k++;
      while (k < t.length && t.charCodeAt(k) !== 34) {
        if (t.charCodeAt(k) === 92 /* \ */) k++;
        k++;
      }
    } else if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */) {
      depth--;
      if (depth === 0) return k + 1;
    }
  }
  return -1;
}

function skipSpace(t: string, i: number): number {
  while (i < t.length) {
    const c = t.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    i++;
  }
  return i;
}

export function parseMatrix(t: string): MatrixSeries[] | null {
  if (!/^\s*\{\s*"status"\s*:\s*"success"/.test(t.slice(0, 64))) return null;
  const rt = t.indexOf('"resultType"');
  if (rt < 0 || !/^"resultType"\s*:\s*"matrix"/.test(t.slice(rt, rt + 40))) return null;
  let i = t.indexOf('"result"', rt);
  if (i < 0) return null;
  i = t.indexOf('[', i);
  if (i < 0) return null;
  i++;
  const out: MatrixSeries[] = [];
  for (;;) {
    i = skipSpace(t, i);
    const c = t[i];
    if (c === ']') return out;
    if (c === ',') {
      i++;
      continue;
    }
    if (c !== '{') return null;
    i++;
    // The series object's keys: `metric` and `values`, anything else
    // (histograms) is left to JSON.parse.
    let metric: Record<string, string> | null = null;
    const times: number[] = [];
    const values: number[] = [];
    for (;;) {
      i = skipSpace(t, i);
      if (t[i] === ',') {
        i++;
        continue;
      }
      if (t[i] === '}') {
        i++;
        break;
      }
      if (t.startsWith('"metric"', i)) {
        const mStart = t.indexOf('{', i);
        const mEnd = endOfObject(t, mStart);
        if (mStart < 0 || mEnd < 0) return null;
        metric = JSON.parse(t.slice(mStart, mEnd));
        i = mEnd;
      } else if (t.startsWith('"values"', i)) {
        let k = t.indexOf('[', i) + 1;
        for (;;) {
          k = skipSpace(t, k);
          const d = t[k];
          if (d === ']') {
            k++;
            break;
          }
          if (d === ',') {
            k++;
            continue;
          }
          if (d !== '[') return null;
          const comma = t.indexOf(',', k);
          times.push(readNum(t, skipSpace(t, k + 1), comma));
          const q1 = t.indexOf('"', comma);
          const q2 = t.indexOf('"', q1 + 1);
          values.push(readNum(t, q1 + 1, q2));
          k = t.indexOf(']', q2) + 1;
          if (k === 0) return null;
        }
        i = k;
      } else return null;
    }
    if (!metric) return null;
    out.push({ metric, times, values });
  }
}

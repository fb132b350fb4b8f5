// Grafana's unit ids (`fieldConfig.defaults.unit`) as value formatters:
// the ones real dashboards use (Node Exporter Full, HAProxy, the seeds').
// An unknown unit shows the number with the unit id as a suffix, as Grafana
// does for custom units.

export type Formatter = (v: number, decimals?: number) => string;

const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
const SI_SMALL = ['', 'm', 'µ', 'n', 'p'];

function fixed(v: number, decimals?: number): string {
  if (!isFinite(v)) return String(v);
  if (decimals != null) return v.toFixed(decimals);
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return trim(v.toFixed(1));
  if (a >= 1) return trim(v.toFixed(2));
  return trim(v.toPrecision(2));
}

function join(n: string, unit: string): string {
  return unit ? `${n} ${unit}` : n;
}

function trim(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/// Scales by `base` (1000 or 1024) through `steps`, suffixing the unit.
function scaled(base: number, steps: string[], unit: string): Formatter {
  return (v, d) => {
    let i = 0;
    let x = v;
    while (Math.abs(x) >= base && i < steps.length - 1) {
      x /= base;
      i++;
    }
    return join(fixed(x, d), steps[i] + unit);
  };
}

function si(unit: string, small = false): Formatter {
  const big = scaled(1000, SI, unit);
  return (v, d) => {
    if (small && v !== 0 && Math.abs(v) < 1) {
      let x = v;
      let i = 0;
      while (Math.abs(x) < 1 && i < SI_SMALL.length - 1) {
        x *= 1000;
        i++;
      }
      return join(fixed(x, d), SI_SMALL[i] + unit);
    }
    return big(v, d);
  };
}

const IEC = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const DEC = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

const short: Formatter = (v, d) => {
  const f = scaled(1000, ['', 'K', 'Mil', 'Bil', 'Tri', 'Quadr'], '');
  return f(v, d);
};

/// A duration in seconds, in the largest unit that keeps it above 1.
function duration(scaleToSeconds: number): Formatter {
  return (v, d) => {
    const s = v * scaleToSeconds;
    const a = Math.abs(s);
    if (a === 0) return '0 s';
    if (a < 1e-6) return `${fixed(s * 1e9, d)} ns`;
    if (a < 1e-3) return `${fixed(s * 1e6, d)} µs`;
    if (a < 1) return `${fixed(s * 1e3, d)} ms`;
    if (a < 60) return `${fixed(s, d)} s`;
    if (a < 3600) return `${fixed(s / 60, d)} min`;
    if (a < 86400) return `${fixed(s / 3600, d)} hour`;
    if (a < 604800) return `${fixed(s / 86400, d)} day`;
    return `${fixed(s / 604800, d)} week`;
  };
}

const UNITS: Record<string, Formatter> = {
  none: (v, d) => fixed(v, d),
  short,
  percent: (v, d) => `${fixed(v, d)}%`,
  percentunit: (v, d) => `${fixed(v * 100, d)}%`,
  bytes: scaled(1024, IEC, 'B'),
  decbytes: scaled(1000, DEC, 'B'),
  kbytes: (v, d) => scaled(1024, IEC, 'B')(v * 1024, d),
  mbytes: (v, d) => scaled(1024, IEC, 'B')(v * 1024 * 1024, d),
  bits: scaled(1024, IEC, 'b'),
  decbits: scaled(1000, DEC, 'b'),
  bps: scaled(1000, DEC, 'b/s'),
  Bps: scaled(1000, DEC, 'B/s'),
  binBps: scaled(1024, IEC, 'B/s'),
  binbps: scaled(1024, IEC, 'b/s'),
  pps: si('p/s'),
  ops: si('ops/s'),
  reqps: si('req/s'),
  rps: si('rd/s'),
  wps: si('wr/s'),
  iops: si('io/s'),
  eps: si('evt/s'),
  mps: si('msg/s'),
  cps: si('c/s'),
  opm: si('ops/min'),
  rpm: si('req/min'),
  hertz: si('Hz'),
  rotrpm: (v, d) => `${fixed(v, d)} rpm`,
  celsius: (v, d) => `${fixed(v, d)}°C`,
  fahrenheit: (v, d) => `${fixed(v, d)}°F`,
  volt: si('V', true),
  watt: si('W', true),
  amp: si('A', true),
  s: duration(1),
  ms: duration(1e-3),
  µs: duration(1e-6),
  us: duration(1e-6),
  ns: duration(1e-9),
  m: duration(60),
  h: duration(3600),
  d: duration(86400),
  dtdurations: duration(1),
  dtdurationms: duration(1e-3),
  bool: (v) => (v ? 'True' : 'False'),
  bool_yes_no: (v) => (v ? 'Yes' : 'No'),
  bool_on_off: (v) => (v ? 'On' : 'Off'),
  currencyUSD: (v, d) => `$${short(v, d ?? 2)}`,
  currencyEUR: (v, d) => `€${short(v, d ?? 2)}`,
  dateTimeAsIso: (v) => new Date(v).toISOString(),
  dateTimeFromNow: (v) => `${duration(1)(Math.round((Date.now() - v) / 1000))} ago`,
};

/// The formatter of a Grafana unit id (`undefined` means `short`).
export function formatter(unit: string | undefined): Formatter {
  if (!unit) return short;
  const f = UNITS[unit];
  if (f) return f;
  // Grafana's custom forms: `suffix:<text>`, `prefix:<text>`, `si:<unit>`.
  const [kind, rest] = [unit.slice(0, unit.indexOf(':')), unit.slice(unit.indexOf(':') + 1)];
  if (kind === 'suffix') return (v, d) => `${fixed(v, d)}${rest}`;
  if (kind === 'prefix') return (v, d) => `${rest}${fixed(v, d)}`;
  if (kind === 'si') return si(rest, true);
  return (v, d) => `${fixed(v, d)} ${unit}`;
}

export function formatValue(v: number | null | undefined, unit?: string, decimals?: number): string {
  if (v == null || Number.isNaN(v)) return 'No data';
  return formatter(unit)(v, decimals);
}

/// The units offered in the panel editor.
export const UNIT_CHOICES = ['short', 'none', 'percent', 'percentunit', 'bytes', 'decbytes', 'bits', 'bps', 'Bps', 's', 'ms', 'µs', 'ns', 'reqps', 'ops', 'pps', 'hertz', 'celsius', 'bool_yes_no'];

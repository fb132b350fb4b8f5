// A trace as Jaeger's JSON model carries it (what `/jaeger/api/traces/ID`
// answers), made into a tree for the waterfall, with its critical path.

export interface JTag {
  key: string;
  type: string;
  value: any;
}
export interface JRef {
  refType: 'CHILD_OF' | 'FOLLOWS_FROM';
  traceID: string;
  spanID: string;
}
export interface JSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: JRef[];
  startTime: number; // µs
  duration: number; // µs
  tags: JTag[];
  logs: { timestamp: number; fields: JTag[] }[];
  processID: string;
}
export interface JTrace {
  traceID: string;
  spans: JSpan[];
  processes: Record<string, { serviceName: string; tags: JTag[] }>;
}

export interface Node {
  span: JSpan;
  service: string;
  depth: number;
  children: Node[];
  error: boolean;
}

export function tag(s: JSpan, key: string): any {
  return s.tags.find((t) => t.key === key)?.value;
}

export function isError(s: JSpan): boolean {
  return tag(s, 'error') === true || tag(s, 'error') === 'true' || tag(s, 'otel.status_code') === 'ERROR';
}

/// The spans as a forest ordered by start time: a span whose parent is
/// missing is a root (a late or lost parent).
export function buildTree(t: JTrace): Node[] {
  const nodes = new Map<string, Node>();
  for (const s of t.spans) nodes.set(s.spanID, { span: s, service: t.processes[s.processID]?.serviceName ?? '', depth: 0, children: [], error: isError(s) });
  const roots: Node[] = [];
  for (const n of nodes.values()) {
    const parent = n.span.references.find((r) => r.refType === 'CHILD_OF' && r.traceID === n.span.traceID);
    const p = parent && nodes.get(parent.spanID);
    if (p && p !== n) p.children.push(n);
    else roots.push(n);
  }
  const order = (a: Node, b: Node) => a.span.startTime - b.span.startTime;
  const setDepth = (n: Node, d: number) => {
    n.depth = d;
    n.children.sort(order);
    n.children.forEach((c) => setDepth(c, d + 1));
  };
  roots.sort(order).forEach((r) => setDepth(r, 0));
  return roots;
}

/// Depth-first order of the visible rows; children of collapsed spans hidden.
export function flatten(roots: Node[], collapsed: Set<string>): Node[] {
  const out: Node[] = [];
  const walk = (n: Node) => {
    out.push(n);
    if (!collapsed.has(n.span.spanID)) n.children.forEach(walk);
  };
  roots.forEach(walk);
  return out;
}

export interface Segment {
  spanID: string;
  start: number;
  end: number;
}

/// The critical path: the parts of spans that the trace's end waited on.
/// Walking back from a span's end, the child that finished last before
/// that moment is on the path; the time no child covers belongs to the
/// span itself.
export function criticalPath(n: Node, endUs = n.span.startTime + n.span.duration): Segment[] {
  const out: Segment[] = [];
  const start = n.span.startTime;
  let t = Math.min(endUs, start + n.span.duration);
  const kids = n.children.filter((c) => c.span.references.some((r) => r.refType === 'CHILD_OF'));
  while (t > start) {
    let best: Node | null = null;
    let bestEnd = -Infinity;
    for (const c of kids) {
      const cEnd = Math.min(c.span.startTime + c.span.duration, t);
      if (c.span.startTime < t && cEnd > bestEnd) {
        best = c;
        bestEnd = cEnd;
      }
    }
    if (!best) {
      out.push({ spanID: n.span.spanID, start, end: t });
      break;
    }
    if (bestEnd < t) out.push({ spanID: n.span.spanID, start: bestEnd, end: t });
    out.push(...criticalPath(best, bestEnd));
    t = Math.max(best.span.startTime, start);
  }
  return out;
}

/// A stable color per service.
const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#0891b2', '#db2777', '#65a30d', '#ea580c', '#4f46e5', '#0d9488'];
export function serviceColor(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

/// A duration in µs as people read one.
export function fmtDuration(us: number): string {
  if (us < 1000) return `${us}µs`;
  if (us < 1_000_000) return `${+(us / 1000).toFixed(2)}ms`;
  return `${+(us / 1_000_000).toFixed(2)}s`;
}

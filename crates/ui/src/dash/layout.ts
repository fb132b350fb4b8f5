// Where each panel goes: Grafana's grid (24 columns, rows of 30 px with
// 8 px gaps), with rows collapsed or open and panels and rows repeated by
// a variable (each copy sees the variable bound to one value).
import { Panel } from './model';
import { ALL, Scope, VarState, interpolate } from './vars';

export interface Placed {
  /// Stable across renders: the panel id plus the repeat value.
  key: string;
  panel: Panel;
  x: number;
  y: number;
  w: number;
  h: number;
  scope: Scope;
  /// The panel's index path in the model (for edits), null for repeats.
  index: number | null;
}

function repeatValues(scope: Scope, name: string | undefined): string[] | null {
  if (!name) return null;
  const st = scope.vars.get(name);
  if (!st) return null;
  const all = st.selected.length === 1 && st.selected[0] === ALL;
  const vals = all ? st.options.map((o) => o.value) : st.selected;
  return vals.length ? vals : null;
}

function bound(scope: Scope, name: string, value: string): Scope {
  const st = scope.vars.get(name)!;
  const one: VarState = { ...st, selected: [value], v: { ...st.v, multi: false, includeAll: false } };
  const vars = new Map(scope.vars);
  vars.set(name, one);
  return { vars, builtins: scope.builtins };
}

/// The panels to draw, in place. `panels` is the model's top level: rows
/// that are collapsed hold their panels.
export function layout(panels: Panel[], scope: Scope): Placed[] {
  const order = panels.map((p, i) => ({ p, i })).sort((a, b) => a.p.gridPos.y - b.p.gridPos.y || a.p.gridPos.x - b.p.gridPos.x);
  const out: Placed[] = [];
  // Growth of the layout above a y: repeats push what follows down.
  const shifts: [number, number][] = [];
  const shift = (y: number) => shifts.reduce((s, [at, by]) => (y >= at ? s + by : s), 0);

  let k = 0;
  while (k < order.length) {
    const { p, i } = order[k];
    const g = p.gridPos;
    if (p.type === 'row') {
      // The row's section: what it holds when collapsed, else the panels up
      // to the next row.
      let section: { p: Panel; i: number | null }[] = [];
      let end = k + 1;
      if (p.collapsed) section = [];
      else {
        while (end < order.length && order[end].p.type !== 'row') end++;
        section = order.slice(k + 1, end);
      }
      const values = repeatValues(scope, p.repeat) ?? [null];
      const bottom = Math.max(g.y + 1, ...section.map((s) => s.p.gridPos.y + s.p.gridPos.h));
      const height = bottom - g.y;
      const base = shift(g.y);
      values.forEach((val, n) => {
        const sc = val == null ? scope : bound(scope, p.repeat!, val);
        const dy = base + n * height;
        out.push({ key: `${p.id ?? i}-${val ?? ''}`, panel: { ...p, title: interpolate(p.title ?? '', sc, 'raw') }, x: 0, y: g.y + dy, w: 24, h: 1, scope: sc, index: n ? null : i });
        for (const s of section) {
          placePanel(s.p, n ? null : s.i, s.p.gridPos.y + dy, sc, `${val ?? ''}`);
        }
      });
      if (values.length > 1) shifts.push([bottom, (values.length - 1) * height]);
      k = p.collapsed ? k + 1 : end;
      continue;
    }
    placePanel(p, i, g.y + shift(g.y), scope, '');
    k++;
  }
  return out;

  function placePanel(p: Panel, index: number | null, y: number, sc: Scope, prefix: string) {
    const g = p.gridPos;
    const values = repeatValues(sc, p.repeat);
    if (!values) {
      out.push({ key: `${prefix}/${p.id ?? index}`, panel: p, x: g.x, y, w: g.w, h: g.h, scope: sc, index });
      return;
    }
    const n = values.length;
    if (p.repeatDirection === 'v') {
      values.forEach((v, j) => out.push({ key: `${prefix}/${p.id}-${v}`, panel: p, x: g.x, y: y + j * g.h, w: g.w, h: g.h, scope: bound(sc, p.repeat!, v), index: j ? null : index }));
      if (n > 1) shifts.push([g.y + g.h, (n - 1) * g.h]);
      return;
    }
    const perRow = Math.min(p.maxPerRow || 4, n);
    const w = Math.max(1, Math.floor(24 / perRow));
    values.forEach((v, j) =>
      out.push({ key: `${prefix}/${p.id}-${v}`, panel: p, x: (j % perRow) * w, y: y + Math.floor(j / perRow) * g.h, w, h: g.h, scope: bound(sc, p.repeat!, v), index: j ? null : index }),
    );
    const lines = Math.ceil(n / perRow);
    if (lines > 1) shifts.push([g.y + g.h, (lines - 1) * g.h]);
  }
}

/// Moves panels down until none covers another (repeats that spread over
/// a row push what was beside them below, as Grafana's grid does).
function unoverlap(items: Placed[]): Placed[] {
  const placed: Placed[] = [];
  const hit = (a: Placed, b: Placed) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  for (const it of items) {
    let c = placed.find((p) => hit(it, p));
    while (c) {
      it.y = c.y + c.h;
      c = placed.find((p) => hit(it, p));
    }
    placed.push(it);
  }
  return placed;
}

/// Opens or collapses a row in the model: its panels move into the row or
/// back after it, and what follows moves by the section's height.
export function toggleRow(panels: Panel[], rowIndex: number): Panel[] {
  const ps = panels.map((p) => ({ ...p, gridPos: { ...p.gridPos } }));
  const row = ps[rowIndex];
  const y = row.gridPos.y;
  if (row.collapsed) {
    const inner = (row.panels ?? []).map((p) => ({ ...p, gridPos: { ...p.gridPos } }));
    const top = Math.min(...inner.map((p) => p.gridPos.y), Infinity);
    const height = inner.length ? Math.max(...inner.map((p) => p.gridPos.y + p.gridPos.h)) - top : 0;
    for (const p of ps) if (p !== row && p.gridPos.y > y) p.gridPos.y += height;
    for (const p of inner) p.gridPos.y = y + 1 + (p.gridPos.y - top);
    row.collapsed = false;
    row.panels = [];
    ps.splice(rowIndex + 1, 0, ...inner);
    return ps;
  }
  const after = ps.filter((p) => p.gridPos.y > y).sort((a, b) => a.gridPos.y - b.gridPos.y);
  const nextRow = after.find((p) => p.type === 'row');
  const limit = nextRow ? nextRow.gridPos.y : Infinity;
  const inner = ps.filter((p) => p !== row && p.type !== 'row' && p.gridPos.y > y && p.gridPos.y < limit);
  const height = inner.length ? Math.max(...inner.map((p) => p.gridPos.y + p.gridPos.h)) - (y + 1) : 0;
  row.collapsed = true;
  row.panels = inner;
  const rest = ps.filter((p) => !inner.includes(p));
  for (const p of rest) if (p !== row && p.gridPos.y >= limit) p.gridPos.y -= height;
  return rest;
}

/// Moves panels down until none overlaps one above it (after a drag).
export function settle(panels: Panel[], moved: Panel): Panel[] {
  const ps = panels.map((p) => (p === moved ? p : { ...p, gridPos: { ...p.gridPos } }));
  const placed: Panel[] = [moved];
  const overlaps = (a: Panel, b: Panel) =>
    a.gridPos.x < b.gridPos.x + b.gridPos.w && b.gridPos.x < a.gridPos.x + a.gridPos.w && a.gridPos.y < b.gridPos.y + b.gridPos.h && b.gridPos.y < a.gridPos.y + a.gridPos.h;
  for (const p of ps.filter((q) => q !== moved).sort((a, b) => a.gridPos.y - b.gridPos.y)) {
    let hit = placed.find((q) => overlaps(p, q));
    while (hit) {
      p.gridPos.y = hit.gridPos.y + hit.gridPos.h;
      hit = placed.find((q) => overlaps(p, q));
    }
    placed.push(p);
  }
  return ps;
}

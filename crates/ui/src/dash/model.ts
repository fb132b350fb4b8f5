// Grafana's dashboard model, as far as Sightline reads it. Dashboards are
// stored and served in this model (the server upgrades older schema
// versions when it loads them), so what Grafana exports opens here and what
// is saved here opens in Grafana. Fields we do not know are kept as they
// are: every type is open (`[k: string]: any`).

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  /// Minimum step, e.g. "1m" or "$interval".
  interval?: string;
  intervalFactor?: number;
  instant?: boolean;
  range?: boolean;
  format?: 'time_series' | 'table' | 'heatmap';
  hide?: boolean;
  [k: string]: any;
}

export interface ThresholdStep {
  color: string;
  value: number | null;
}

export interface FieldConfig {
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  displayName?: string;
  color?: { mode?: string; fixedColor?: string; [k: string]: any };
  thresholds?: { mode?: 'absolute' | 'percentage'; steps: ThresholdStep[] };
  mappings?: any[];
  custom?: Record<string, any>;
  [k: string]: any;
}

export interface Override {
  matcher: { id: string; options?: any };
  properties: { id: string; value?: any }[];
}

export interface Panel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  gridPos: GridPos;
  targets?: Target[];
  fieldConfig?: { defaults?: FieldConfig; overrides?: Override[] };
  options?: Record<string, any>;
  interval?: string;
  maxDataPoints?: number;
  repeat?: string;
  repeatDirection?: 'h' | 'v';
  maxPerRow?: number;
  /// Rows: whether collapsed; a collapsed row holds its panels.
  collapsed?: boolean;
  panels?: Panel[];
  datasource?: any;
  [k: string]: any;
}

export interface VariableOption {
  text: string;
  value: string;
  selected?: boolean;
}

export interface Variable {
  name: string;
  type: 'query' | 'custom' | 'constant' | 'interval' | 'datasource' | 'textbox' | 'adhoc' | string;
  label?: string;
  query?: string | { query?: string; [k: string]: any };
  definition?: string;
  current?: { text?: string | string[]; value?: string | string[] };
  options?: VariableOption[];
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  regex?: string;
  sort?: number;
  hide?: number;
  auto?: boolean;
  auto_count?: number;
  auto_min?: string;
  [k: string]: any;
}

export interface Dashboard {
  uid?: string;
  title: string;
  tags?: string[];
  panels: Panel[];
  templating?: { list: Variable[] };
  time?: { from: string; to: string };
  refresh?: string;
  schemaVersion?: number;
  version?: number;
  [k: string]: any;
}

export interface DashboardMeta {
  slug?: string;
  url?: string;
  version?: number;
  folderUid?: string;
  folderTitle?: string;
  provisioned?: boolean;
  canSave?: boolean;
  canEdit?: boolean;
  [k: string]: any;
}

/// Every panel, rows' nested panels included, in order.
export function allPanels(panels: Panel[]): Panel[] {
  const out: Panel[] = [];
  for (const p of panels) {
    out.push(p);
    if (p.panels?.length) out.push(...allPanels(p.panels));
  }
  return out;
}

// Calls of the Prometheus HTTP API, relative to the page so that a path
// prefix in front of the server keeps working.
export interface ApiError {
  status: number;
  errorType?: string;
  error: string;
}

export interface Series {
  metric: Record<string, string>;
  values?: [number, string][];
  value?: [number, string];
}

export interface QueryData {
  resultType: 'matrix' | 'vector' | 'scalar' | 'string';
  result: Series[] | [number, string];
}

export interface QueryResponse {
  data: QueryData;
  warnings?: string[];
  raw: string;
}

export async function query(path: string, params: Record<string, string>): Promise<QueryResponse> {
  const body = new URLSearchParams(params);
  const res = await fetch(`api/v1/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
  const raw = await res.text();
  let json: any;
  try {
    json = JSON.parse(raw);
  } catch {
    throw { status: res.status, error: `HTTP ${res.status}: ${raw.slice(0, 500)}` } as ApiError;
  }
  if (json.status !== 'success') {
    throw { status: res.status, errorType: json.errorType, error: json.error ?? raw } as ApiError;
  }
  return { data: json.data, warnings: json.warnings, raw };
}

/// The base URL of the API, for libraries that want an absolute one.
export function apiBase(): string {
  return new URL('.', window.location.href).href.replace(/\/$/, '');
}

export function seriesName(m: Record<string, string>): string {
  const name = m.__name__ ?? '';
  const labels = Object.keys(m)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}="${m[k]}"`)
    .join(', ');
  return labels ? `${name}{${labels}}` : name || '{}';
}

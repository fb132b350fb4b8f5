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

export async function query(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<QueryResponse> {
  const body = new URLSearchParams(params);
  const res = await fetch(`api/v1/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
    signal,
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

/// A query's answer as text, for callers that read it themselves; an
/// answer that is not a success becomes an ApiError as in `query`.
export async function queryRaw(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<string> {
  const res = await fetch(`api/v1/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
    signal,
  });
  const raw = await res.text();
  if (!res.ok) {
    let json: any = null;
    try {
      json = JSON.parse(raw);
    } catch {
      /* not JSON */
    }
    throw { status: res.status, errorType: json?.errorType, error: json?.error ?? `HTTP ${res.status}: ${raw.slice(0, 500)}` } as ApiError;
  }
  return raw;
}

/// GET of a Prometheus-style API path: its `data`, or an ApiError.
export async function getJSON<T = any>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { signal });
  const raw = await res.text();
  let json: any;
  try {
    json = JSON.parse(raw);
  } catch {
    throw { status: res.status, error: `HTTP ${res.status}: ${raw.slice(0, 500)}` } as ApiError;
  }
  if (json.status !== 'success') {
    throw { status: res.status, errorType: json.errorType, error: json.error ?? json.message ?? raw } as ApiError;
  }
  return json.data as T;
}

/// A JSON request to a non-Prometheus API (dashboards, Alertmanager):
/// the body, or an ApiError with the server's message.
export async function fetchJSON<T = any>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, init);
  const raw = await res.text();
  let json: any = null;
  try {
    json = raw ? JSON.parse(raw) : null;
  } catch {
    /* not JSON: the raw text is the message */
  }
  if (!res.ok) {
    throw { status: res.status, error: json?.message ?? json?.error ?? (raw.slice(0, 500) || `HTTP ${res.status}`) } as ApiError;
  }
  return json as T;
}

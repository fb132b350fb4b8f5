// Client routing lives in the fragment (`#/explore?from=now-1h&to=now`):
// the server only ever serves `/`, so the UI works behind any path prefix
// and needs no server-side fallback for its routes.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  path: string;
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const h = window.location.hash.replace(/^#\/?/, '');
  const i = h.indexOf('?');
  const path = (i < 0 ? h : h.slice(0, i)) || 'explore';
  return { path, params: new URLSearchParams(i < 0 ? '' : h.slice(i + 1)) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const on = () => setRoute(currentRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

/// The link to `path` keeping the shared parameters (the time range).
export function href(path: string, params: URLSearchParams, keep = ['from', 'to']): string {
  const p = new URLSearchParams();
  for (const k of keep) {
    const v = params.get(k);
    if (v !== null) p.set(k, v);
  }
  const q = p.toString();
  return `#/${path}${q ? '?' + q : ''}`;
}

/// Replaces the URL's parameters without adding a history entry per keystroke.
export function setParams(path: string, params: URLSearchParams, push = false) {
  const url = `#/${path}?${params.toString()}`;
  if (push) window.location.hash = url.slice(1);
  else {
    history.replaceState(null, '', url);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  }
}

import { useEffect, useState } from 'react';

/**
 * Hash routes (#/p/NAME/label?x=y): the server serves one page, so nothing but / and /assets/
 * needs routing there. `parseRoute` is pure.
 */
export type Route =
  | { page: 'signin' }
  | { page: 'projects' }
  | { page: 'dashboard' | 'label' | 'review' | 'map' | 'admin'; project: string; sub?: string; query: URLSearchParams };

export function parseRoute(hash: string): Route {
  const [path, qs] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'signin') return { page: 'signin' };
  if (parts[0] === 'p' && parts[1]) {
    const page = (['label', 'review', 'map', 'admin'] as const).find((p) => p === parts[2]) ?? 'dashboard';
    return { page, project: parts[1], sub: parts[3], query: new URLSearchParams(qs ?? '') };
  }
  return { page: 'projects' };
}

export const href = (project: string, page?: string, sub?: string) => `#/p/${encodeURIComponent(project)}${page ? `/${page}` : ''}${sub ? `/${sub}` : ''}`;

export const navigate = (h: string) => {
  if (location.hash !== h) location.hash = h;
};

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const f = () => setHash(location.hash);
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  return parseRoute(hash);
}

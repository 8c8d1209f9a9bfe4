// Other spellings of an /api/ path, as an attacker may send them to slip past a check on the raw
// URL: the router decodes some of them to the same route, others match nothing.

export interface Spelling {
  name: string;
  path: string;
  /** true: the router decodes it to the same route; false: it matches no route; 'maybe': depends on the route (a trailing `/` or `;x` may reach another route, through a path parameter). */
  sameRoute: boolean | 'maybe';
}

/** Letters whose percent-escape has a hex letter in it (j–o: %6A–%6F, z: %7A), so the escape can be written in either case. */
const HEX_LETTER = /[j-oz]/g;

/** Escapes each of those letters, alternating upper- and lower-case hex digits (`%6D`, then `%6f`, …). */
function mixedCaseEscapes(s: string): string {
  let i = 0;
  return s.replace(HEX_LETTER, (c) => {
    const hex = c.charCodeAt(0).toString(16);
    return '%' + (i++ % 2 === 0 ? hex.toUpperCase() : hex.toLowerCase());
  });
}

/** `path` must start with `/api/`. */
export function apiSpellings(path: string): Spelling[] {
  if (!path.startsWith('/api/')) throw new Error(`not an API path: ${path}`);
  const rest = path.slice('/api/'.length);
  const [bare, query] = rest.split('?');
  const q = query === undefined ? '' : `?${query}`;
  const mixed = mixedCaseEscapes(bare);
  return [
    { name: '%61pi', path: `/%61pi/${rest}`, sameRoute: true },
    // Not for a path without such a letter (`/api/users`): none of its escapes has a hex letter to case.
    ...(mixed === bare ? [] : [{ name: 'mixed-case escapes', path: `/%61p%69/${mixed}${q}`, sameRoute: true } as const]),
    { name: 'double-encoded %2561pi', path: `/%2561pi/${rest}`, sameRoute: false },
    { name: 'upper-case API', path: `/API/${rest}`, sameRoute: false },
    { name: 'double slash', path: `//api/${rest}`, sameRoute: false },
    { name: 'trailing slash', path: `/api/${bare}/${q}`, sameRoute: 'maybe' },
    { name: 'trailing ;x', path: `/api/${bare};x${q}`, sameRoute: 'maybe' },
    { name: '%61pi with trailing ;x', path: `/%61pi/${bare};x${q}`, sameRoute: 'maybe' },
  ];
}

/**
 * Which of `patterns` (`METHOD /api/…/:param/…`) a request path reaches, as Fastify's router
 * reads it: query dropped, each segment percent-decoded once, compared case-sensitively and
 * segment by segment (a parameter takes any one segment, the empty one included); a static
 * segment wins over a parameter. Null when none does.
 */
export function reachedRoute(patterns: string[], method: string, path: string): { route: string; params: Record<string, string> } | null {
  let segs: string[];
  try {
    segs = path.split('?')[0].split('/').map(decodeURIComponent);
  } catch {
    return null;
  }
  let best: { route: string; params: Record<string, string>; statics: number } | null = null;
  for (const route of patterns) {
    const [m, url] = route.split(' ');
    if (m !== method) continue;
    const want = url.split('/');
    if (want.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let statics = 0;
    let ok = true;
    for (let i = 0; i < want.length && ok; i++) {
      if (want[i].startsWith(':')) params[want[i].slice(1)] = segs[i];
      else if (want[i] === segs[i]) statics++;
      else ok = false;
    }
    if (ok && (!best || statics > best.statics)) best = { route, params, statics };
  }
  return best && { route: best.route, params: best.params };
}

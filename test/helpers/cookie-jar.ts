// A browser's cookie handling, enough to follow a sign-in by hand over HTTP: cookies kept per
// origin and sent to the paths they were set for, removed by Max-Age=0 or a past Expires;
// redirects are not followed (the test follows each one itself). Every Set-Cookie header seen
// is kept with its attributes, so a test can check HttpOnly, SameSite, Path and Secure.

export interface SetCookie {
  origin: string;
  name: string;
  value: string;
  attrs: Record<string, string | true>;
}

interface Stored {
  value: string;
  path: string;
}

export interface JarResponse {
  status: number;
  location: string | null;
  text: string;
  json: any;
  headers: Headers;
  url: string;
}

export function parseSetCookie(origin: string, header: string): SetCookie {
  const [pair, ...rest] = header.split(';');
  const i = pair.indexOf('=');
  const attrs: Record<string, string | true> = {};
  for (const a of rest) {
    const j = a.indexOf('=');
    const k = (j < 0 ? a : a.slice(0, j)).trim().toLowerCase();
    if (k) attrs[k] = j < 0 ? true : a.slice(j + 1).trim();
  }
  return { origin, name: pair.slice(0, i).trim(), value: pair.slice(i + 1).trim(), attrs };
}

export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, Stored>>();
  readonly seen: SetCookie[] = [];

  cookie(origin: string, name: string): string | undefined {
    return this.byOrigin.get(origin)?.get(name)?.value;
  }

  set(origin: string, name: string, value: string, path = '/') {
    const m = this.byOrigin.get(origin) ?? new Map<string, Stored>();
    this.byOrigin.set(origin, m);
    m.set(name, { value, path });
  }

  delete(origin: string, name: string) {
    this.byOrigin.get(origin)?.delete(name);
  }

  /** The last Set-Cookie for `name` from `origin`. */
  lastSet(origin: string, name: string): SetCookie | undefined {
    return [...this.seen].reverse().find((c) => c.origin === origin && c.name === name);
  }

  private header(url: URL): string {
    const m = this.byOrigin.get(url.origin);
    if (!m) return '';
    return [...m]
      .filter(([, c]) => url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : c.path + '/'))
      .map(([k, c]) => `${k}=${c.value}`)
      .join('; ');
  }

  async fetch(url: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<JarResponse> {
    const u = new URL(url);
    const headers: Record<string, string> = { ...init.headers };
    const cookie = this.header(u);
    if (cookie) headers.cookie = cookie;
    const res = await fetch(u, { ...init, headers, redirect: 'manual' });
    for (const h of res.headers.getSetCookie()) {
      const c = parseSetCookie(u.origin, h);
      this.seen.push(c);
      const expired = c.attrs['max-age'] === '0' || (typeof c.attrs.expires === 'string' && Date.parse(c.attrs.expires) <= Date.now());
      if (expired || c.value === '') this.delete(u.origin, c.name);
      else this.set(u.origin, c.name, c.value, typeof c.attrs.path === 'string' ? c.attrs.path : '/');
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const loc = res.headers.get('location');
    return { status: res.status, location: loc === null ? null : new URL(loc, u).href, text, json, headers: res.headers, url: u.href };
  }
}

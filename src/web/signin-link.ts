/**
 * Sign-in links: `ORIGIN/#/signin?token=TOKEN` (what `tessera start` prints and what an admin's
 * invite shows). The token sits in the fragment, so the browser never sends it to a server; it is
 * taken out of the address (history.replaceState) before anything renders, so it stays neither in
 * the address bar nor in the tab's history. Pure over the `Location`/`History` it is given.
 */
export function tokenFromHash(hash: string): string | null {
  const m = /^#\/signin\?(.*)$/.exec(hash);
  if (!m) return null;
  const t = new URLSearchParams(m[1]).get('token');
  return t && t.trim() ? t.trim() : null;
}

/** The token of a sign-in link in the address, removed from the address (and this history entry); null when there is none. */
export function takeLinkToken(loc: Pick<Location, 'hash' | 'pathname' | 'search'> = location, hist: Pick<History, 'replaceState' | 'state'> = history): string | null {
  const token = tokenFromHash(loc.hash);
  if (/^#\/signin\?/.test(loc.hash)) hist.replaceState(hist.state, '', `${loc.pathname}${loc.search}#/`);
  return token;
}

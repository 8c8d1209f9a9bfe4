/**
 * Trusted Types: the page's CSP (`require-trusted-types-for 'script'; trusted-types default`)
 * makes the browser refuse any string that reaches an HTML or script sink (innerHTML,
 * eval-like calls, script URLs). The UI never needs HTML from strings: the only policy is the
 * default one, which lets same-origin script URLs through (the embedding map's Web Worker) and
 * refuses everything else. Imported first by main.tsx.
 */
interface TrustedTypePolicyFactoryLike {
  createPolicy(name: string, rules: { createScriptURL?: (s: string) => string; createHTML?: (s: string) => string; createScript?: (s: string) => string }): unknown;
}

const tt = (globalThis as { trustedTypes?: TrustedTypePolicyFactoryLike }).trustedTypes;
if (tt) {
  tt.createPolicy('default', {
    createScriptURL(s: string) {
      const u = new URL(s, location.href);
      if (u.origin !== location.origin) throw new TypeError(`script URL from another origin refused: ${u.origin}`);
      return u.href;
    },
    createHTML() {
      throw new TypeError('HTML from strings is not allowed in Tessera');
    },
    createScript() {
      throw new TypeError('scripts from strings are not allowed in Tessera');
    },
  });
}

export {};

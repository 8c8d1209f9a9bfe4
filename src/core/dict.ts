/**
 * Objects keyed by names users choose (labels above all). On an ordinary object such a name can
 * collide with Object.prototype: `o['__proto__'] = v` sets the prototype instead of adding a
 * key, and `o['constructor']` or `o['toString']` read an inherited function where no entry was
 * made. A dict has no prototype, so every name is just a key, and JSON.stringify writes it
 * like any other object. `own` reads a key of any object (JSON.parse output included) only if
 * it is the object's own.
 */
export type Dict<V> = Record<string, V>;

/** An empty object with no prototype. */
export const dict = <V>(): Dict<V> => Object.create(null) as Dict<V>;

/** A dict of the entries, in their order (a later duplicate key wins, as in Object.fromEntries). */
export function dictOf<V>(entries: Iterable<readonly [string, V]>): Dict<V> {
  const d = dict<V>();
  for (const [k, v] of entries) d[k] = v;
  return d;
}

/** `o[key]` if `key` is o's own property, else undefined (never an inherited member). */
export const own = <V>(o: Readonly<Record<string, V>>, key: string): V | undefined => (Object.hasOwn(o, key) ? o[key] : undefined);

import type { SuggestionEntry } from '../label/results.ts';
import { rowArgmax } from '../ml/rows.ts';

/** A model that suggests: its registry id, its classes, and calibrated probabilities (rows × classes) of items given as `I`. */
export interface SuggestingModel<I> {
  id: number;
  classes: readonly string[];
  proba(items: I): Promise<Float64Array>;
}

/**
 * The suggestion of each item: the most probable class (the first on a tie) and its calibrated
 * probability, source `model:<id>`. `items.input` is what the model reads for them (positions in
 * the loop's data, a shard's decoded items), row for row with `items.ids`.
 */
export async function suggestionsFrom<I>(model: SuggestingModel<I>, items: { ids: readonly number[]; input: I }): Promise<SuggestionEntry[]> {
  if (items.ids.length === 0) return [];
  const p = await model.proba(items.input);
  const C = model.classes.length;
  if (p.length !== items.ids.length * C) throw new Error(`model ${model.id}: ${p.length} probabilities for ${items.ids.length} items of ${C} classes`);
  return items.ids.map((itemId, i) => {
    const best = rowArgmax(p, i, C);
    return { itemId, labels: [model.classes[best]], source: `model:${model.id}`, confidence: p[i * C + best] };
  });
}

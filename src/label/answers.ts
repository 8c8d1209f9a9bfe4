import { own } from '../core/dict.ts';
import { getItem, type ItemRow } from '../store/items.ts';
import { checkAnswers, classQuestion, itemDimensions, type Answers, type CheckContext } from './questions.ts';
import type { Taxonomy } from './taxonomy.ts';
import type { Conn } from '../store/tx.ts';

/** Answers checked against a stored item (its text, image size or audio duration): questions.ts checkAnswers with the item loaded. */
export async function checkItemAnswers(db: Conn, projectId: number, taxonomy: Taxonomy, itemId: number, raw: unknown, opts: Pick<CheckContext, 'where' | 'scores' | 'partial'>): Promise<Answers> {
  const item = await getItem(db, projectId, itemId);
  return checkAnswers(taxonomy.questions, raw, { ...opts, version: taxonomy.version, item: answerItem(item) });
}

export const answerItem = (item: Pick<ItemRow, 'id' | 'modality' | 'text' | 'meta'>) => ({ id: item.id, modality: item.modality, text: item.text, dims: itemDimensions(item) });

/** The class question's labels within answers ([] when the taxonomy has no class question). */
export function classLabels(taxonomy: Pick<Taxonomy, 'questions'>, answers: Answers): string[] {
  const c = classQuestion(taxonomy);
  return c ? ((own(answers, c.name) as string[] | undefined) ?? []) : [];
}

import type { Kysely } from 'kysely';
import type { Dialect } from '../schema.ts';

/**
 * Questions of several kinds per taxonomy version (src/label/questions.ts): single, multi,
 * spans, boxes, segments, rating, text. JSON columns beside the existing ones, all nullable, so
 * every row written before reads as it did:
 * - `taxonomies.questions`: the version's questions; null = the legacy `kind` + `labels`
 *   (one question named `label`). `kind`/`labels` keep the single/multi question for old readers.
 * - `annotations.answers`, `label_items.final_answers`, `review_queue.proposal_answers`,
 *   `reviews.answers`, `suggestions.answers`: answers by question name. Null = the `labels`
 *   column alone (the single/multi question); that column stays the class question's answer.
 */
export function up013(_dialect: Dialect) {
  return async (db: Kysely<any>) => {
    await db.schema.alterTable('taxonomies').addColumn('questions', 'text').execute();
    await db.schema.alterTable('annotations').addColumn('answers', 'text').execute();
    await db.schema.alterTable('label_items').addColumn('final_answers', 'text').execute();
    await db.schema.alterTable('review_queue').addColumn('proposal_answers', 'text').execute();
    await db.schema.alterTable('reviews').addColumn('answers', 'text').execute();
    await db.schema.alterTable('suggestions').addColumn('answers', 'text').execute();
  };
}

import { toLabelStudio } from '../label-studio.ts';
import { classQuestion, isLegacy, storedAnswers, type Answers, type Question } from '../questions.ts';
import { annotationsOf, consensusOf, contentUrl, importOf, reviewOf, type Row } from './rows.ts';

/**
 * Label Studio JSON is one array: streamed element by element, byte for byte what
 * `JSON.stringify(tasks, null, 2) + "\n"` gives (elements indented by two spaces; `[]` when empty).
 */
export async function* labelStudioChunks(pages: AsyncIterable<Row[]>, questions: readonly Question[], projectName: string): AsyncGenerator<string> {
  let first = true;
  for await (const rows of pages) {
    let out = '';
    for (const row of rows) {
      out += (first ? '[\n  ' : ',\n  ') + JSON.stringify(labelStudioTask(row, questions, projectName), null, 2).replace(/\n/g, '\n  ');
      first = false;
    }
    yield out;
  }
  yield first ? '[]\n' : '\n]\n';
}

/** The names the `choices` results point at: `<Choices name="label" toName="item">` over the object tag `name="item"`. */
const LABEL_STUDIO_FROM = 'label';
const LABEL_STUDIO_TO = 'item';

/**
 * One Label Studio task per item, in the form Label Studio's task import accepts
 * (label_studio/tasks/serializers.py, BaseTaskSerializerBulk, and tasks/validation.py):
 * - `completed_by` is left out. Label Studio takes only a user id of its own organisation or
 *   `{"email": …}` of a member there, and refuses the whole import for anything else (it did for
 *   the annotator names this export used to write); without it the annotations belong to the user
 *   who imports. Who answered what stays in the task's `meta` (Label Studio keeps it) and in each
 *   annotation's `meta`.
 * - an annotation's `id` becomes Label Studio's `import_id`: Tessera's annotation id (a positive
 *   integer). The ground-truth annotation (the final label) is not one of Tessera's: no id.
 * - `data` holds what the labelling config's object tag reads (docs/export.md): `$text`,
 *   `$image` or `$audio` (the content URL), or `$values` (the row as an object, for `<Table>`).
 */
function labelStudioTask({ label: l, item }: Row, questions: readonly Question[], projectName: string) {
  const legacy = isLegacy({ questions });
  const cls = classQuestion({ questions });
  const kind = cls?.kind;
  const result = legacy
    ? (labels: string[]) => [
        {
          from_name: LABEL_STUDIO_FROM,
          to_name: LABEL_STUDIO_TO,
          type: 'choices',
          value: { choices: labels },
          ...(kind === 'multi' ? { meta: { multiple: true } } : {}),
        },
      ]
    : (answers: Answers) => toLabelStudio(questions, answers, item);
  // Per annotation: its answers, or (written before questions existed) its labels as the class question's.
  const answersOf = (labels: string[], answers: Answers | undefined): Answers => answers ?? storedAnswers(null, labels, cls?.name);
  const review = reviewOf(l);
  const anns = annotationsOf(l);
  const decidedBy = review ? review.reviewer : l.source === 'import' ? `import:${importOf(l)?.by ?? ''}` : `consensus:${consensusOf(l)?.method ?? ''}`;
  const annotations: Array<Record<string, unknown>> = anns.map((a) => ({
    ...(Number.isInteger(a.id) && a.id > 0 ? { id: a.id } : {}),
    created_at: a.at,
    lead_time: a.timeMs / 1000,
    ground_truth: false,
    result: legacy ? (result as (x: string[]) => unknown)(a.labels) : (result as (x: Answers) => unknown)(answersOf(a.labels, a.answers)),
    meta: { annotator: a.annotator, taxonomyVersion: a.taxonomyVersion },
  }));
  annotations.push({
    created_at: l.decidedAt ?? '',
    lead_time: 0,
    ground_truth: true,
    result: legacy
      ? (result as (x: string[]) => unknown)(l.labels ?? [])
      : (result as (x: Answers) => unknown)(l.answers ?? answersOf(l.labels ?? [], undefined)),
    meta: { decidedBy, taxonomyVersion: l.taxonomyVersion, source: l.source, confidence: l.confidence, review },
  });
  return {
    id: l.itemId,
    data:
      item.text !== null
        ? { text: item.text }
        : item.values
          ? { values: item.values }
          : { [item.modality === 'audio' ? 'audio' : 'image']: contentUrl(projectName, l.itemId) },
    meta: { sourceKey: l.sourceKey, sha256: item.sha256, annotators: anns.map((a) => a.annotator), decidedBy },
    annotations,
  };
}

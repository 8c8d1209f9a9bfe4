import { agreementReport, questionsAgreement, type AgreementOptions } from './agreement.ts';
import { classQuestion, isLegacy } from './questions.ts';
import { currentAnswers, currentQuestionAnswers } from './settle.ts';
import type { Taxonomy } from './taxonomy.ts';
import type { Conn } from '../store/tx.ts';

/**
 * A project's agreement report (`GET …/agreement`, the dashboard): the single/multi question's
 * coefficients at the top level as they always were, and — for a taxonomy beyond one legacy
 * question — `questions`, one report per question (agreement.ts questionsAgreement). Without a
 * single/multi question the top-level coefficients are null.
 */
export async function projectAgreement(db: Conn, projectId: number, taxonomy: Taxonomy, opts: AgreementOptions = {}) {
  const cls = classQuestion(taxonomy);
  if (isLegacy(taxonomy)) return agreementReport(await currentAnswers(db, projectId, taxonomy), { kind: cls!.kind, labels: cls!.labels }, opts);
  const { answers, texts } = await currentQuestionAnswers(db, projectId, taxonomy, { texts: taxonomy.questions.some((q) => q.kind === 'spans') });
  const questions = questionsAgreement(taxonomy.questions, answers, texts, opts);
  if (cls) return { ...agreementReport(await currentAnswers(db, projectId, taxonomy), { kind: cls.kind, labels: cls.labels }, opts), questions };
  const annotators = new Set(answers.map((a) => a.annotator)).size;
  return { kind: null, items: new Set(answers.map((a) => a.item)).size, annotators, answers: answers.length, overall: null, perLabel: [], pairwise: { annotators: [], kappa: [], n: [] }, questions };
}
